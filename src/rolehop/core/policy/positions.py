"""Where each statement of a policy document sits in its text, for the policy simulator's
MatchedStatements (StartPosition / EndPosition).

`statement_spans(text)` returns, in the order of the Statement element (the order of the compiled
`Statement.index`), the (line, column) of each statement's opening brace and of the character just
past its closing brace; lines and columns count from 1. It reads only text that `load_json` has
already accepted (so its nesting is bounded) and returns [] for anything else.
"""

from __future__ import annotations

import json

Position = tuple[int, int]
_WS = " \t\n\r"
_CLOSE = {"{": "}", "[": "]"}


def _ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _string_end(s: str, i: int) -> int:
    """`s[i]` is a quote: the index just past the closing quote."""
    i += 1
    while s[i] != '"':
        i += 2 if s[i] == "\\" else 1
    return i + 1


def _value_end(s: str, i: int) -> int:
    """The index just past the JSON value starting at `i` (no whitespace before it)."""
    c = s[i]
    if c == '"':
        return _string_end(s, i)
    if c not in _CLOSE:
        while i < len(s) and s[i] not in ",]}" + _WS:
            i += 1
        return i
    depth = 0
    while True:
        c = s[i]
        if c == '"':
            i = _string_end(s, i)
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def _position(s: str, i: int) -> Position:
    return s.count("\n", 0, i) + 1, i - (s.rfind("\n", 0, i) + 1) + 1


def statement_spans(text: str) -> list[tuple[Position, Position]]:
    try:
        return _spans(text)
    except (IndexError, ValueError):
        return []


def _spans(s: str) -> list[tuple[Position, Position]]:
    i = _ws(s, 0)
    if s[i] != "{":
        return []
    i = _ws(s, i + 1)
    while s[i] == '"':
        key_end = _string_end(s, i)
        key = json.loads(s[i:key_end])
        i = _ws(s, _ws(s, key_end) + 1)  # past the colon
        end = _value_end(s, i)
        if key == "Statement":
            return _elements(s, i) if s[i] == "[" else [(_position(s, i), _position(s, end))]
        i = _ws(s, end)
        if s[i] == ",":
            i = _ws(s, i + 1)
    return []


def _elements(s: str, i: int) -> list[tuple[Position, Position]]:
    out: list[tuple[Position, Position]] = []
    i = _ws(s, i + 1)
    while s[i] != "]":
        end = _value_end(s, i)
        out.append((_position(s, i), _position(s, end)))
        i = _ws(s, end)
        if s[i] == ",":
            i = _ws(s, i + 1)
    return out
