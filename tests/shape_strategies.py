"""Hypothesis strategies for values of botocore shapes, shared by the wire codec tests."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

# Text both protocols can carry: no surrogates (not UTF-8) and no control characters.
TEXT = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
ONE_CLASS = re.compile(r"\^?(\[[^\]]*\]|\\w|\\d)([+*])\$?")  # patterns like [\w+=,.@-]+
TIMES = st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
)
INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def generation_regex(java: str) -> re.Pattern[str]:
    # Test-side stand-in for Java classes: \w and \d are subsets of \p{L}/\p{N} (plus _).
    if "\\p{" in java:
        return re.compile(java.replace(r"\p{L}", r"\w").replace(r"\p{N}", r"\d").replace(r"\p{Z}", " "))
    return re.compile(java, re.ASCII)


def string_strategy(shape: Any) -> st.SearchStrategy[str]:
    """Strings a shape accepts: its enum, or its length and pattern."""
    if shape.enum:
        return st.sampled_from(list(shape.enum))
    low = shape.metadata.get("min", 0)
    high = shape.metadata.get("max", math.inf)
    cap = int(min(high, low + 24))
    pattern = shape.metadata.get("pattern")
    if pattern is None:
        return st.text(TEXT, min_size=low, max_size=cap)
    one_class = ONE_CLASS.fullmatch(pattern)
    if one_class:
        alphabet = st.from_regex(generation_regex(one_class.group(1)), fullmatch=True, alphabet=TEXT)
        return st.text(alphabet, min_size=max(low, one_class.group(2) == "+"), max_size=max(cap, 1))
    regex = generation_regex(pattern)
    return st.from_regex(regex, fullmatch=True, alphabet=TEXT).filter(lambda s: low <= len(s) <= high)


def scalar_strategy(shape: Any, *, valid: bool) -> st.SearchStrategy[Any] | None:
    """Integers, booleans, timestamps and blobs (None for other kinds)."""
    kind = shape.type_name
    if kind in INT_BOUNDS:
        low, high = INT_BOUNDS[kind]
        if valid:
            low, high = shape.metadata.get("min", low), shape.metadata.get("max", high)
        return st.integers(int(low), int(high))
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return TIMES
    if kind == "blob":
        low = shape.metadata.get("min", 0) if valid else 0
        return st.binary(min_size=low, max_size=int(min(shape.metadata.get("max", 24), low + 24)))
    return None
