"""Client JSON in the pure core: what json.loads reads, read alike within MAX_DEPTH levels; anything
deeper, NaN, Infinity or malformed text a ValueError — never a RecursionError, whatever the text."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolehop.core.bounded_json import MAX_DEPTH, JsonTooDeep, load_json, nesting_depth

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@given(JSON, st.booleans())
def test_documents_within_the_bound_read_as_json_loads_reads_them(value: Any, as_bytes: bool) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert nesting_depth(text) == depth(value)
    assert load_json(text.encode() if as_bytes else text) == json.loads(text)


@pytest.mark.parametrize("opener", ["[", "{", '{"a":', '["]", {"k":'])
def test_nesting_beyond_the_bound_is_a_value_error(opener: str) -> None:
    for levels in (MAX_DEPTH + 1, 3000, 200_000):
        with pytest.raises(JsonTooDeep):
            load_json(opener * levels)
        with pytest.raises(ValueError):
            load_json((opener * levels).encode())
    assert load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) == json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 5000, "b": ['\\"{' * 100], "ü": "{{{"})
    assert nesting_depth(text) == 2
    assert load_json(text) == json.loads(text)
    assert load_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "{", "[1,]", "'a'", "", "\ud800"])
def test_what_is_not_json_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        load_json(text)


NOISE = st.text(st.sampled_from('[]{}",:\\ a1'), max_size=60)
DEEP = st.tuples(NOISE, st.sampled_from(["[", "{", '{"a":', '"\\"",[']), st.integers(0, 5000), NOISE)


@given(DEEP.map(lambda parts: parts[0] + parts[1] * parts[2] + parts[3]) | st.binary(max_size=200))
def test_no_text_raises_anything_but_value_error(text: str | bytes) -> None:
    with contextlib.suppress(ValueError):
        load_json(text)
