"""botocore's patterns are Java regular expressions: translated once into Python's, whole-string
matched as Java's `matches()` does; a pattern that cannot be translated faithfully is not checked."""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
import warnings

_UNSUPPORTED_ESCAPES = frozenset("hHRXQEGzeckKVv")
_JAVA_DOT = "[^\\n\\r\\u0085\\u2028\\u2029]"  # Java's `.` excludes every line terminator


@functools.cache
def compile_java_pattern(text: str) -> re.Pattern[str] | None:
    """A Python regex with Java's full-match semantics, or None when it cannot be translated
    faithfully (then the constraint is not checked: better lenient than wrongly strict)."""
    translated = _translate(text)
    if translated is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FutureWarning marks Java/Python differences
            return re.compile(translated, re.ASCII)  # Java's \w \d \s are ASCII by default
    except (re.error, Warning):
        return None


def _translate(text: str) -> str | None:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            esc = text[i + 1]
            if esc in "pP":
                name, i = _property_name(text, i + 2)
                ranges = _category_ranges(name) if name else None
                if ranges is None or (esc == "P" and in_class):
                    return None
                out.append(ranges if in_class else f"[{'^' if esc == 'P' else ''}{ranges}]")
                continue
            if esc in _UNSUPPORTED_ESCAPES:
                return None
            out.append(text[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[" or text.startswith("&&", i):
                return None  # Java class union/intersection
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if text.startswith("[^]", i) or text.startswith("[]", i):
                return None
        elif ch == ".":
            out.append(_JAVA_DOT)
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _property_name(text: str, at: int) -> tuple[str | None, int]:
    if at < len(text) and text[at] == "{":
        end = text.find("}", at)
        return (text[at + 1 : end], end + 1) if end > 0 else (None, len(text))
    return (text[at], at + 1) if at < len(text) else (None, at)


def _category_ranges(name: str) -> str | None:
    name = name.removeprefix("Is").removeprefix("general_category=")
    return _unicode_categories().get(name)


@functools.cache
def _unicode_categories() -> dict[str, str]:
    """Regex class bodies for every general category (Lu…) and major class (L…); ~0.2 s once."""
    runs: dict[str, list[list[int]]] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        for name in (cat, cat[0]):
            ranges = runs.setdefault(name, [])
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return {name: "".join(_class_range(low, high) for low, high in ranges) for name, ranges in runs.items()}


def _class_range(low: int, high: int) -> str:
    return f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}"
