"""Comparing two wildcard patterns: do they overlap, does one cover the other?

Only `rolehop policy evaluate` uses this, for a request whose resource is itself a pattern
("may this principal act on some object under `bucket/logs/*`?"). An Allow applies when its
pattern overlaps the request's; a Deny only when it covers every resource the request names.
Both questions are answered exactly on small automata built from the two patterns, with the same
segment rules as `ArnPattern` (wildcards stay inside the first five ARN segments).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from rolehop.core.policy.arnmatch import split_segments
from rolehop.core.policy.wildcard import Tokens, Wild

_LIT, _ONE, _STAR = 0, 1, 2
Sym = tuple[int, str, bool]  # kind, literal character, may cross a colon
_OTHER = "\x00"  # stands for every character neither pattern names


def syms(tokens: Tokens) -> tuple[Sym, ...]:
    segments = split_segments(tokens)
    count = len(segments)
    out: list[Sym] = []
    for i, segment in enumerate(segments):
        if i:
            out.append((_LIT, ":", True))
        cross = count < 2 or i == 5 or (count < 6 and i == count - 1)
        for tok in segment:
            if isinstance(tok, str):
                out.extend((_LIT, ch, True) for ch in tok)
            else:
                out.append((_STAR if tok is Wild.STAR else _ONE, "", cross))
    return tuple(out)


def _closure(pattern: tuple[Sym, ...], states: set[int]) -> frozenset[int]:
    todo = list(states)
    seen = set(states)
    while todo:
        i = todo.pop()
        if i < len(pattern) and pattern[i][0] == _STAR and i + 1 not in seen:
            seen.add(i + 1)
            todo.append(i + 1)
    return frozenset(seen)


def _step(pattern: tuple[Sym, ...], states: frozenset[int], ch: str) -> frozenset[int]:
    nxt: set[int] = set()
    for i in states:
        if i >= len(pattern):
            continue
        kind, lit, cross = pattern[i]
        if kind == _LIT:
            if lit == ch:
                nxt.add(i + 1)
        elif cross or ch != ":":
            nxt.add(i + 1 if kind == _ONE else i)
    return _closure(pattern, nxt)


Pair = tuple[frozenset[int], frozenset[int]]


def _explore(a: tuple[Sym, ...], b: tuple[Sym, ...], found: Callable[[Pair], bool]) -> bool:
    """Breadth-first search of the product of both determinised automata."""
    alphabet = {s[1] for s in a + b if s[0] == _LIT} | {":", _OTHER}
    start = (_closure(a, {0}), _closure(b, {0}))
    seen = {start}
    queue = deque([start])
    while queue:
        pair = queue.popleft()
        if found(pair):
            return True
        for ch in alphabet:
            nxt = (_step(a, pair[0], ch), _step(b, pair[1], ch))
            if nxt[0] and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def overlaps(x: Tokens, y: Tokens) -> bool:
    """True when some string matches both patterns."""
    a, b = syms(x), syms(y)
    return _explore(a, b, lambda p: len(a) in p[0] and len(b) in p[1])


def covers(outer: Tokens, inner: Tokens) -> bool:
    """True when every string matching `inner` also matches `outer`."""
    a, b = syms(inner), syms(outer)
    return not _explore(a, b, lambda p: len(a) in p[0] and len(b) not in p[1])
