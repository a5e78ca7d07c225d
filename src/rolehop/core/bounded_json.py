"""JSON from clients, parsed within bounds: strict RFC 8259 (no NaN or Infinity) and at most
MAX_DEPTH levels of arrays and objects.

Python's parser recurses once per level, so a few thousand `[` (a federation Session, a request
body, a policy document) raise RecursionError, at a depth that depends on how deep the caller's
stack already is. The depth is measured first, without recursion, so every caller gets the same
answer for the same text: a ValueError, like any other malformed document.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from types import MappingProxyType
from typing import Any

MAX_DEPTH = 64  # no AWS request or policy document nests a tenth as deep

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # a JSON string: its brackets don't count
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = MappingProxyType({"[": 1, "{": 1, "]": -1, "}": -1})


class JsonTooDeep(ValueError):
    """Arrays and objects nest deeper than the parser is allowed to go."""


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in `text`, brackets inside strings aside (a running count: no
    recursion, whatever the text)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def load_json(document: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, but a ValueError (JsonTooDeep) for nesting beyond `max_depth` and for the
    non-JSON constants NaN and Infinity; UnicodeDecodeError is a ValueError too."""
    # Latin-1 maps each byte to one character: UTF-8's brackets and quotes stay where they are.
    text = document.decode("latin-1") if isinstance(document, bytes) else document
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
    return json.loads(document, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
