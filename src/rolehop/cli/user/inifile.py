"""Editing ~/.aws/config and ~/.aws/credentials without disturbing anything else in them.

configparser would drop every comment and reorder what it rewrites, so this editor works on lines:
a section is its header line and the lines up to the next header; a key is a `key = value` line and
its indented continuation lines (botocore's nested `s3 =` settings). Only the keys asked for are
replaced, added or removed; every other byte of the file stays as it was. Reading is left to
configparser, as botocore reads these files (botocore.configloader.raw_config_parse).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_HEADER = re.compile(r"^\[(?P<name>[^\]]+)\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^(?P<key>[^=:\s#;\[][^=:]*?)\s*[=:]")


@dataclass
class _Section:
    name: str | None  # None: the lines before the first header
    lines: list[str] = field(default_factory=list)  # the header line first, when there is one


def _key_of(line: str) -> str | None:
    match = _KEY.match(line)
    return match.group("key").strip().lower() if match else None


class IniDocument:
    def __init__(self, text: str = "") -> None:
        self.sections: list[_Section] = [_Section(None)]
        for line in text.splitlines(keepends=True):
            match = _HEADER.match(line.rstrip("\r\n"))
            if match:
                self.sections.append(_Section(match.group("name").strip(), [line]))
            else:
                self.sections[-1].lines.append(line)

    def text(self) -> str:
        return "".join(line for section in self.sections for line in section.lines)

    def names(self) -> list[str]:
        return [s.name for s in self.sections if s.name is not None]

    def _find(self, name: str) -> _Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def has(self, name: str) -> bool:
        return self._find(name) is not None

    def remove(self, name: str) -> bool:
        section = self._find(name)
        if section is None:
            return False
        self.sections.remove(section)
        return True

    def update(self, name: str, values: Mapping[str, str], remove: tuple[str, ...] = ()) -> None:
        """Sets `values` in section `name` (creating it at the end of the file) and removes the keys
        in `remove`; other keys, comments and blank lines of the section are kept in place."""
        for key, value in values.items():
            if "\n" in value or "\r" in value:
                raise ValueError(f"{key}: a value is one line")
        section = self._find(name)
        if section is None:
            section = self._append(name)
        pending = {k.lower(): v for k, v in values.items()}
        replacing = set(pending)
        dropping = {k.lower() for k in remove} - replacing
        kept: list[str] = section.lines[:1]
        skipping = False  # inside the continuation lines of a replaced or removed key
        for line in section.lines[1:]:
            if skipping and line[:1] in (" ", "\t") and line.strip():
                continue
            skipping = False
            key = _key_of(line) or ""
            if key in dropping:
                skipping = True
                continue
            if key in replacing:
                skipping = True
                if key in pending:
                    kept.append(f"{key} = {pending.pop(key)}\n")
                continue
            kept.append(line)
        if pending:
            at = _after_last_setting(kept)
            kept[at:at] = [f"{k} = {v}\n" for k, v in pending.items()]
        section.lines = kept

    def _append(self, name: str) -> _Section:
        last = self.sections[-1]
        if last.lines and not last.lines[-1].endswith(("\n", "\r")):
            last.lines[-1] += "\n"
        if any(line.strip() for s in self.sections for line in s.lines) and (
            not last.lines or last.lines[-1].strip()
        ):
            last.lines.append("\n")
        section = _Section(name, [f"[{name}]\n"])
        self.sections.append(section)
        return section


def _after_last_setting(lines: list[str]) -> int:
    """Where new keys go: after the section's last non-blank line, before trailing blank lines."""
    at = len(lines)
    while at > 1 and not lines[at - 1].strip():
        at -= 1
    if lines[at - 1 : at] and not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += "\n"
    return at
