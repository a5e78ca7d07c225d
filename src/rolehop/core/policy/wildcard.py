"""`*` and `?` wildcards, compiled once into matchers.

A pattern is first split into tokens: literal runs (str) and `Wild` markers. Literal text that
came from a policy variable or from `${*}`/`${?}` is a literal token, so its `*` matches only a
`*`. `Glob` picks the cheapest matcher for a token sequence: equality, prefix, suffix, substring,
prefix-and-suffix, or a regular expression compiled when the policy is compiled (never per
evaluation) for patterns with at most one `*`. Patterns with several stars, and globs built at
evaluation time (after variable substitution), use a backtracking matcher that is linear in the
pattern times the subject, so a hostile policy cannot make matching exponential.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence


class Wild(enum.Enum):
    STAR = "*"
    ONE = "?"


Token = str | Wild
Tokens = tuple[Token, ...]


def tokenize(text: str) -> Tokens:
    """Split glob text into literal runs and wildcards (no escaping: that is `${*}`'s job)."""
    out: list[Token] = []
    run: list[str] = []
    for ch in text:
        if ch == "*" or ch == "?":
            if run:
                out.append("".join(run))
                run = []
            # `**` means the same as `*`; collapsing keeps the matchers simple
            if ch == "*" and out and out[-1] is Wild.STAR:
                continue
            out.append(Wild.STAR if ch == "*" else Wild.ONE)
        else:
            run.append(ch)
    if run:
        out.append("".join(run))
    return tuple(out)


def normalize(tokens: Sequence[Token]) -> Tokens:
    """Merge adjacent literals and collapse repeated stars."""
    out: list[Token] = []
    for tok in tokens:
        if isinstance(tok, str):
            if not tok:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + tok
                continue
        elif tok is Wild.STAR and out and out[-1] is Wild.STAR:
            continue
        out.append(tok)
    return tuple(out)


def lower_tokens(tokens: Tokens) -> Tokens:
    return tuple(t.lower() if isinstance(t, str) else t for t in tokens)


def has_wildcard(tokens: Tokens) -> bool:
    return any(isinstance(t, Wild) for t in tokens)


def literal_text(tokens: Tokens) -> str:
    """The text of a token sequence, wildcards written as `*` and `?`."""
    return "".join(t if isinstance(t, str) else t.value for t in tokens)


def _regex(tokens: Tokens) -> re.Pattern[str]:
    parts = [re.escape(t) if isinstance(t, str) else (".*" if t is Wild.STAR else ".") for t in tokens]
    return re.compile("".join(parts), re.DOTALL)


def _backtrack(atoms: Sequence[str | Wild], subject: str) -> bool:
    """Classic single-pass wildcard match with one backtrack point (O(n*m) worst case)."""
    i = j = 0
    star_i, star_j = -1, 0
    n, m = len(atoms), len(subject)
    while j < m:
        if i < n:
            atom = atoms[i]
            if atom is Wild.STAR:
                star_i, star_j = i, j
                i += 1
                continue
            if atom is Wild.ONE or atom == subject[j]:
                i += 1
                j += 1
                continue
        if star_i < 0:
            return False
        i = star_i + 1
        star_j += 1
        j = star_j
    while i < n and atoms[i] is Wild.STAR:
        i += 1
    return i == n


def _atoms(tokens: Tokens) -> list[str | Wild]:
    atoms: list[str | Wild] = []
    for t in tokens:
        if isinstance(t, str):
            atoms.extend(t)
        else:
            atoms.append(t)
    return atoms


class Glob:
    """A compiled wildcard pattern; `match(subject)` is the only thing evaluation calls."""

    __slots__ = ("match", "tokens")

    match: Callable[[str], bool]
    tokens: Tokens

    def __init__(self, tokens: Tokens, *, runtime: bool = False) -> None:
        self.tokens = tokens = normalize(tokens)
        self.match = _matcher(tokens, runtime)

    @classmethod
    def of(cls, text: str) -> Glob:
        return cls(tokenize(text))

    @property
    def is_any(self) -> bool:
        return self.tokens == (Wild.STAR,)

    def __repr__(self) -> str:
        return f"Glob({literal_text(self.tokens)!r})"


def _always(_subject: str) -> bool:
    return True


def _matcher(tokens: Tokens, runtime: bool) -> Callable[[str], bool]:
    n = len(tokens)
    if n == 0:
        return "".__eq__
    first, last = tokens[0], tokens[-1]
    if n == 1:
        if isinstance(first, str):
            return first.__eq__
        if first is Wild.STAR:
            return _always
    if n == 2 and isinstance(first, str) and last is Wild.STAR:
        return lambda s: s.startswith(first)
    if n == 2 and first is Wild.STAR and isinstance(last, str):
        return lambda s: s.endswith(last)
    if n == 3 and first is Wild.STAR and last is Wild.STAR and isinstance(tokens[1], str):
        middle = tokens[1]
        return lambda s: middle in s
    if n == 3 and isinstance(first, str) and tokens[1] is Wild.STAR and isinstance(last, str):
        least = len(first) + len(last)  # `user/*/alice`: the prefix and suffix must not overlap
        return lambda s: len(s) >= least and s.startswith(first) and s.endswith(last)
    if Wild.ONE not in tokens:
        return _pieces(tokens)
    if runtime or tokens.count(Wild.STAR) > 1:
        # several stars: a backtracking regex can take exponential time on a hostile pattern,
        # the single-backtrack-point matcher is O(len(pattern) * len(subject))
        atoms = _atoms(tokens)
        return lambda s: _backtrack(atoms, s)
    pattern = _regex(tokens)
    return lambda s: pattern.fullmatch(s) is not None


def _pieces(tokens: Tokens) -> Callable[[str], bool]:
    """Stars only: anchor the first and last literal, then find the others leftmost, in order
    (greedy leftmost placement is optimal when the pieces are plain text); linear, in C."""
    head = tokens[0] if isinstance(tokens[0], str) else ""
    tail = tokens[-1] if isinstance(tokens[-1], str) and len(tokens) > 1 else ""
    middle = [
        t for t in tokens[1 if head else 0 : len(tokens) - 1 if tail else len(tokens)] if isinstance(t, str)
    ]
    least = len(head) + len(tail)

    def match(s: str) -> bool:
        if len(s) < least or not s.startswith(head) or not s.endswith(tail):
            return False
        pos, end = len(head), len(s) - len(tail)
        for piece in middle:
            found = s.find(piece, pos, end)
            if found < 0:
                return False
            pos = found + len(piece)
        return True

    return match


def glob_match(pattern: str, subject: str) -> bool:
    """Convenience for tests and one-off checks (compiles on every call)."""
    return Glob(tokenize(pattern), runtime=True).match(subject)
