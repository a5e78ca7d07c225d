"""Compiled, immutable policies: `Policy` holds `Statement`s whose matchers are ready to run.

`Policy.for_action` returns the statements whose Action/NotAction element matches an action;
the answer is memoised per policy (bounded), so evaluating a request touches only the
statements about its action. Resource matching follows `ArnPattern`; a Resource value with a
policy variable is compiled once per distinct variable value (see `variables.Resolved`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from rolehop.core.policy import overlap
from rolehop.core.policy.arnmatch import ArnPattern
from rolehop.core.policy.conditions import Condition, all_of
from rolehop.core.policy.principals import PrincipalSpec
from rolehop.core.policy.request import Request
from rolehop.core.policy.variables import Context, Part, Resolved, to_tokens
from rolehop.core.policy.wildcard import Glob

Effect = Literal["Allow", "Deny"]
ResourceItem = ArnPattern | Resolved[ArnPattern]
_ACTION_CACHE_LIMIT = 2048


def build_arn(parts: tuple[Part, ...], ctx: Context) -> ArnPattern | None:
    tokens = to_tokens(parts, ctx)
    return None if tokens is None else ArnPattern(tokens, type_rule=True, runtime=True)


@dataclass(frozen=True, slots=True)
class Match:
    """A statement that took part in a decision."""

    policy: str
    statement: int
    sid: str | None
    effect: Effect


@dataclass(frozen=True, slots=True)
class Statement:
    policy: str  # the name of the policy holding it
    index: int
    sid: str | None
    effect: Effect
    actions: tuple[Glob, ...]  # lower-cased patterns
    not_action: bool
    resources: tuple[ResourceItem, ...] | None  # None: the element is absent
    not_resource: bool
    principal: PrincipalSpec | None  # None: neither Principal nor NotPrincipal
    not_principal: bool
    conditions: tuple[Condition, ...]
    # derived once, so evaluation reads flags instead of re-deriving them
    resource_any: bool = field(init=False)
    identity_ok: bool = field(init=False)
    match: Match = field(init=False)
    matches_conditions: Callable[[Context], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        any_resource = self.resources is None or (
            not self.not_resource and any(isinstance(r, ArnPattern) and r.is_any for r in self.resources)
        )
        init = object.__setattr__
        init(self, "resource_any", any_resource)
        # in an identity-side policy, an Allow with a Principal or without a Resource is malformed
        # for that kind; it grants nothing (fail closed), while such a Deny still applies
        init(
            self,
            "identity_ok",
            self.effect == "Deny" or (self.principal is None and self.resources is not None),
        )
        init(self, "match", Match(self.policy, self.index, self.sid, self.effect))
        init(self, "matches_conditions", all_of(self.conditions))

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def matches_action(self, action_key: str) -> bool:
        hit = any(glob.match(action_key) for glob in self.actions)
        return hit != self.not_action

    def matches_resource(self, req: Request) -> bool:
        """Resource/NotResource against the request (an absent element matches everything)."""
        if self.resource_any or self.resources is None:
            return True
        if req.resource_is_pattern:
            return self._matches_pattern(req)
        text, parts, ctx = req.resource, req.resource_parts, req.ctx
        unresolved = False
        for item in self.resources:
            pattern = item if isinstance(item, ArnPattern) else item(ctx)
            if pattern is None:
                unresolved = True
            elif pattern.match(text, parts):
                return not self.not_resource
        # NotResource with an unresolvable variable cannot prove "not this resource"
        return self.not_resource and not unresolved

    def _matches_pattern(self, req: Request) -> bool:
        """Request pattern: an Allow needs an overlap, a Deny must cover the whole pattern.

        With NotResource the roles swap: an Allow applies when some requested resource lies
        outside every entry (no entry covers the pattern), a Deny when none lies inside one.
        """
        assert self.resources is not None
        compare = overlap.overlaps if self.allow != self.not_resource else overlap.covers
        for item in self.resources:
            pattern = item if isinstance(item, ArnPattern) else item(req.ctx)
            if pattern is None:
                return False
            if compare(pattern.tokens, req.resource_tokens):
                return not self.not_resource
        return self.not_resource


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A compiled policy document. Equality and hashing are by identity."""

    name: str
    version: str
    id: str | None
    statements: tuple[Statement, ...]
    _by_action: dict[str, tuple[Statement, ...]] = field(default_factory=dict, init=False, repr=False)

    def for_action(self, action_key: str) -> tuple[Statement, ...]:
        hit = self._by_action.get(action_key)
        if hit is None:
            if len(self._by_action) >= _ACTION_CACHE_LIMIT:
                self._by_action.clear()
            hit = tuple(s for s in self.statements if s.matches_action(action_key))
            self._by_action[action_key] = hit
        return hit
