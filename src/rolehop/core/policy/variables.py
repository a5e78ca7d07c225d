"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, `${*}`, `${?}`, `${$}`.

A value is parsed once into parts: glob text (whose `*` and `?` are wildcards), literal text
(`${*}` and friends, or a substituted value: a `*` inside a user name matches only `*`), and
variable references. A variable resolves to its context value when the key holds exactly one
value; a missing key falls back to the default, if any. Anything else (missing without default,
several values) leaves the variable unresolved and the policy value then matches nothing, as the
IAM User Guide says for variables without a value. Policies of Version 2008-10-17 have no
variables: their `${…}` text is literal (IAM User Guide, Version element).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from rolehop.core.policy.wildcard import Token, Tokens, tokenize

Context = Mapping[str, str | tuple[str, ...]]
T = TypeVar("T")

_SPECIAL = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # condition key, lower-cased (keys are case-insensitive)
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


Part = str | Literal | Var


def parse(text: str, *, variables: bool = True) -> tuple[Part, ...]:
    """Split policy text into glob text, literals and variables."""
    if not variables or "${" not in text:
        return (text,) if text else ()
    parts: list[Part] = []
    pos = 0
    while True:
        start = text.find("${", pos)
        end = text.find("}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            break
        if start > pos:
            parts.append(text[pos:start])
        parts.append(_reference(text[start + 2 : end]))
        pos = end + 1
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def _reference(inner: str) -> Literal | Var:
    if inner in _SPECIAL:
        return Literal(_SPECIAL[inner])
    m = _DEFAULT.match(inner)
    if m:
        return Var(m.group(1).lower(), m.group(2))
    return Var(inner.strip().lower())


def is_static(parts: tuple[Part, ...]) -> bool:
    return not any(isinstance(p, Var) for p in parts)


def resolve_var(var: Var, ctx: Context) -> str | None:
    value = ctx.get(var.key)
    if value is None:
        return var.default
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else None


def to_text(parts: tuple[Part, ...], ctx: Context) -> str | None:
    """The value with variables substituted (wildcards kept as text), or None if unresolved."""
    out: list[str] = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, Literal):
            out.append(p.text)
        else:
            value = resolve_var(p, ctx)
            if value is None:
                return None
            out.append(value)
    return "".join(out)


def to_tokens(parts: tuple[Part, ...], ctx: Context) -> Tokens | None:
    """Glob tokens with substituted values as literals, or None if a variable is unresolved."""
    out: list[Token] = []
    for p in parts:
        if isinstance(p, str):
            out.extend(tokenize(p))
        elif isinstance(p, Literal):
            out.append(p.text)
        else:
            value = resolve_var(p, ctx)
            if value is None:
                return None
            out.append(value)
    return tuple(out)


EMPTY_CONTEXT: Context = {}


_UNREADABLE = object()
_CACHE_LIMIT = 256


class Resolved(Generic[T]):
    """A value with variables, built into `T` once per distinct set of variable values.

    `build(parts, ctx)` returns None when the substituted text is unreadable for the operator.
    The cache is bounded and only ever holds compiled values, so sharing it between threads is
    safe under the GIL (at worst two threads build the same value).
    """

    __slots__ = ("_build", "_cache", "_vars", "parts")

    def __init__(
        self, parts: tuple[Part, ...], build: Callable[[tuple[Part, ...], Context], T | None]
    ) -> None:
        self.parts = parts
        self._vars = tuple(p for p in parts if isinstance(p, Var))
        self._build = build
        self._cache: dict[tuple[str, ...], object] = {}

    def __call__(self, ctx: Context) -> T | None:
        key: list[str] = []
        for var in self._vars:
            value = resolve_var(var, ctx)
            if value is None:
                return None
            key.append(value)
        frozen = tuple(key)
        hit = self._cache.get(frozen)
        if hit is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            built = self._build(self.parts, ctx)
            hit = self._cache[frozen] = _UNREADABLE if built is None else built
        return None if hit is _UNREADABLE else hit  # type: ignore[return-value]
