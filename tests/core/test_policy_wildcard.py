"""Wildcard matching: `*` and `?` globs, ARN segment rules, and pattern overlap/cover.

Property tests compare the compiled matchers with a deliberately naive reference: a recursive
matcher for globs, and brute-force enumeration of short strings for overlap and cover.
"""

from __future__ import annotations

import itertools
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolehop.core.policy.arnmatch import ArnPattern, split_arn
from rolehop.core.policy.overlap import covers, overlaps
from rolehop.core.policy.wildcard import Glob, Wild, glob_match, tokenize


def reference_match(pattern: str, subject: str) -> bool:
    """Textbook recursive definition of `*` (any run) and `?` (one character)."""

    @cache
    def go(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(subject)
        if pattern[i] == "*":
            return go(i + 1, j) or (j < len(subject) and go(i, j + 1))
        if j < len(subject) and pattern[i] in ("?", subject[j]):
            return go(i + 1, j + 1)
        return False

    return go(0, 0)


ALPHABET = "ab:/*?"
patterns = st.text(alphabet=ALPHABET, max_size=8)
subjects = st.text(alphabet="ab:/", max_size=8)


@given(patterns, subjects)
@settings(max_examples=400)
def test_compiled_glob_agrees_with_reference(pattern: str, subject: str) -> None:
    expected = reference_match(pattern, subject)
    assert Glob.of(pattern).match(subject) is expected
    assert Glob(tokenize(pattern), runtime=True).match(subject) is expected


# every string over {a, b, c} up to length 6: for patterns of at most 3 characters (over a, b),
# a shortest witness of overlap or of non-containment is shorter than that
UNIVERSE = ["".join(p) for n in range(7) for p in itertools.product("abc", repeat=n)]
short_patterns = st.text(alphabet="ab*?", max_size=3)


@given(short_patterns, short_patterns)
@settings(max_examples=300)
def test_overlap_and_cover_agree_with_enumeration(x: str, y: str) -> None:
    in_x = {s for s in UNIVERSE if reference_match(x, s)}
    in_y = {s for s in UNIVERSE if reference_match(y, s)}
    assert overlaps(tokenize(x), tokenize(y)) is bool(in_x & in_y)
    assert covers(tokenize(x), tokenize(y)) is (in_y <= in_x)


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("a*", "ab*", True),
        ("ab*", "a*", False),
        ("??*", "?*?", True),  # both: length >= 2
        ("*", "", True),
        ("a?c", "a*c", False),
    ],
)
def test_covers_examples(outer: str, inner: str, expected: bool) -> None:
    assert covers(tokenize(outer), tokenize(inner)) is expected


def test_tokenize_collapses_stars_and_keeps_literals() -> None:
    assert tokenize("a**b?") == ("a", Wild.STAR, "b", Wild.ONE)
    assert tokenize("") == ()


def test_star_and_question_mark_examples() -> None:
    assert glob_match("s3:Get*", "s3:GetObject")
    assert glob_match("s3:Get?bject", "s3:GetObject")
    assert not glob_match("s3:Get?", "s3:GetObject")
    assert glob_match("*", "")
    assert not glob_match("a", "A")  # case matters unless the caller folds case


def arn(pattern: str, subject: str, *, type_rule: bool = True) -> bool:
    return ArnPattern(tokenize(pattern), type_rule=type_rule).match(subject, split_arn(subject))


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/division/Bob", True),
        ("arn:aws:iam::*:user/Bob", "arn:aws:iam::123456789012:user/Bob", True),
        ("arn:aws:iam::123456789012:user/Bob", "arn:aws:iam::123456789012:user/bob", False),
        # a wildcard stays inside the region segment
        (
            "arn:aws:ec2:us-*:123456789012:instance/i-1",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
            True,
        ),
        ("arn:aws:ec2:*", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", True),  # trailing * runs on
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),
        ("arn:aws:s3:::*", "arn:aws:s3:::bucket/key", True),
        ("arn:???:s3:::bucket", "arn:aws:s3:::bucket", True),
        ("arn:aws:s3:::bucket", "arn:aws-cn:s3:::bucket", False),
        # no wildcard in the resource type, except for S3 where the segment starts with a name
        (
            "arn:aws:ec2:us-east-1:123456789012:*/i-1",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
            False,
        ),
        (
            "arn:aws:ec2:us-east-1:123456789012:instance:*",
            "arn:aws:ec2:us-east-1:123456789012:instance:i-1",
            True,
        ),
        ("arn:aws:s3:::*/logs/*", "arn:aws:s3:::bucket/logs/x", True),
        ("*", "anything at all", True),
        ("arn:aws:s3:::b", "*", False),  # a literal "*" request is not every resource
    ],
)
def test_arn_patterns(pattern: str, subject: str, expected: bool) -> None:
    assert arn(pattern, subject) is expected
    runtime = ArnPattern(tokenize(pattern), type_rule=True, runtime=True)
    assert runtime.match(subject, split_arn(subject)) is expected


def test_substituted_text_is_literal() -> None:
    # a `*` that came from a variable value (a literal token) matches only `*`
    pattern = ArnPattern(("arn:aws:s3:::b/", "x*"), type_rule=True)
    assert pattern.match("arn:aws:s3:::b/x*", split_arn("arn:aws:s3:::b/x*"))
    assert not pattern.match("arn:aws:s3:::b/xyz", split_arn("arn:aws:s3:::b/xyz"))


def test_hostile_patterns_match_in_linear_time() -> None:
    import time

    pattern = "a*" * 40 + "b"
    subject = "a" * 2000
    start = time.perf_counter()
    assert not Glob.of(pattern).match(subject)
    assert not arn(f"arn:aws:s3:::{pattern}", f"arn:aws:s3:::{subject}")
    assert not arn(f"arn:aws:ec2:{pattern}:1:x", f"arn:aws:ec2:{subject}:1:x")
    assert time.perf_counter() - start < 2.0
