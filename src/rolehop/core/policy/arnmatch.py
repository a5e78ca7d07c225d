"""ARN patterns as the Resource element and the Arn* condition operators match them.

AWS matches the colon-separated segments of an ARN one by one: a wildcard in the partition,
service, region or account segment stays inside that segment, while the resource segment (which
may itself hold colons and slashes) is matched as a whole. A pattern with fewer than six segments
whose last segment ends with `*` lets that star run to the end of the ARN ("if the * is the last
character of a segment it can expand beyond the colon boundaries", IAM User Guide, Resource
element). The resource *type* (`user` in `user/Bob`) takes no wildcard (IAM User Guide, IAM
identifiers: "you can't use a wildcard in the portion of the ARN that specifies the resource
type"); services whose resource segment starts with a name rather than a type (S3 buckets, API
Gateway APIs) are exempt.
"""

from __future__ import annotations

import re

from rolehop.core.policy.wildcard import Glob, Token, Tokens, Wild, has_wildcard, normalize

# services whose resource segment begins with a name, not a resource type
NAME_FIRST_SERVICES = frozenset({"s3", "execute-api"})


def split_arn(text: str) -> tuple[str, ...] | None:
    """The six segments of an ARN, or None when `text` is not one."""
    if not text.startswith("arn:"):
        return None
    parts = tuple(text.split(":", 5))
    return parts if len(parts) == 6 else None


def split_segments(tokens: Tokens) -> list[list[Token]]:
    """Split a token sequence at its first five literal colons."""
    segments: list[list[Token]] = [[]]
    for tok in tokens:
        if isinstance(tok, Wild) or len(segments) == 6:
            segments[-1].append(tok)
            continue
        pieces = tok.split(":")
        segments[-1].append(pieces[0])
        for piece in pieces[1:]:
            if len(segments) == 6:
                segments[-1].append(":" + piece)
            else:
                segments.append([piece])
    return segments


def _type_is_wild(resource_segment: list[Token]) -> bool:
    """True when a wildcard comes before the first `/` or `:` of the resource segment."""
    for tok in resource_segment:
        if isinstance(tok, Wild):
            return any(isinstance(t, str) and ("/" in t or ":" in t) for t in resource_segment)
        if "/" in tok or ":" in tok:
            return False
    return False


def _segment_regex(segments: list[list[Token]], tail: bool) -> re.Pattern[str]:
    """One regex for the whole ARN: wildcards in the first five segments stop at colons."""
    out: list[str] = []
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        cross = i == 5 or (tail and i == last)
        for tok in segment:
            if isinstance(tok, str):
                out.append(re.escape(tok))
            elif tok is Wild.STAR:
                out.append(".*" if cross else "[^:]*")
            else:
                out.append("." if cross else "[^:]")
        if i < last:
            out.append(":")
    return re.compile("".join(out), re.DOTALL)


class ArnPattern:
    """A compiled ARN pattern. `match(text, parts)` takes the subject and its `split_arn`."""

    __slots__ = ("_regex", "_segments", "_tail", "is_any", "is_arn", "tokens", "type_rule", "whole")

    def __init__(self, tokens: Tokens, *, type_rule: bool, runtime: bool = False) -> None:
        self.tokens = tokens = normalize(tokens)
        self.whole = Glob(tokens, runtime=runtime)
        self.is_any = self.whole.is_any
        segments = split_segments(tokens)
        self._segments: tuple[Glob, ...] | None = None
        self._regex: re.Pattern[str] | None = None
        self._tail = len(segments) < 6
        self.type_rule = False
        self.is_arn = len(segments) == 6 and segments[0] == ["arn"]
        if len(segments) < 2 or self.is_any or not has_wildcard(tokens):
            return  # matched as a whole: not ARN-shaped, or a plain string compare
        if runtime or any(seg.count(Wild.STAR) > 1 for seg in segments):
            # per variable value (no regex compile), or several stars in a segment (no
            # backtracking regex): one Glob per segment
            self._segments = tuple(Glob(tuple(seg), runtime=runtime) for seg in segments)
        else:
            self._regex = _segment_regex(segments, self._tail)
        self.type_rule = type_rule and len(segments) == 6 and _type_is_wild(segments[5])

    def match(self, text: str, parts: tuple[str, ...] | None) -> bool:
        if parts is None:
            return self.whole.match(text)
        if self._regex is not None:
            if self._regex.fullmatch(text) is None:
                return False
        elif self._segments is None:
            return self.whole.match(text)
        elif not self._match_segments(self._segments, parts):
            return False
        # a wildcard in the resource type never matches, except where there is no type
        return not self.type_rule or parts[2] in NAME_FIRST_SERVICES

    def _match_segments(self, segments: tuple[Glob, ...], parts: tuple[str, ...]) -> bool:
        last = len(segments) - 1
        for i in range(last):
            if not segments[i].match(parts[i]):
                return False
        return segments[last].match(":".join(parts[last:]) if self._tail else parts[last])

    def __repr__(self) -> str:
        return f"ArnPattern({self.whole!r})"
