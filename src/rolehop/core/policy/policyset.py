"""`PolicySet`: the policies that apply to one principal, and per-action evaluation plans.

A plan lists, layer by layer, the statements whose Action/NotAction element matches an action
(identity-side layers already stripped of Allows that cannot apply there), so evaluating a
request walks only the statements about its action. Plans are memoised per PolicySet (bounded):
reuse one PolicySet per principal and repeated actions cost a dictionary look-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rolehop.core.policy.model import Policy, Statement

_PLAN_CACHE_LIMIT = 1024
Statements = tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    scps: tuple[Statements, ...]
    rcps: tuple[Statements, ...]
    resource: Statements
    identity: Statements
    boundaries: Statements | None  # None: no permissions boundary
    session: Statements | None  # None: no session policies


def _candidates(policies: tuple[Policy, ...], action_key: str, *, identity_side: bool) -> Statements:
    out: list[Statement] = []
    for policy in policies:
        for st in policy.for_action(action_key):
            if st.identity_ok or not identity_side:
                out.append(st)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies around one request.

    `identity`: the principal's own and its groups' policies; `resource`: the resource-based
    policy (a role's trust policy for sts:AssumeRole…); `boundaries` and `session`: an empty
    tuple means "none", so nothing is limited; `scps`/`rcps`: one tuple per organization level,
    root first. `scps=()` means no SCP applies (no organization, or the management account,
    whose principals SCPs never restrict); a level with no policy (`((),)`) allows nothing.
    """

    identity: tuple[Policy, ...] = ()
    resource: Policy | None = None
    boundaries: tuple[Policy, ...] = ()
    session: tuple[Policy, ...] = ()
    scps: tuple[tuple[Policy, ...], ...] = ()
    rcps: tuple[tuple[Policy, ...], ...] = ()
    _plans: dict[str, Plan] = field(default_factory=dict, init=False, repr=False, compare=False)

    def plan(self, action_key: str) -> Plan:
        hit = self._plans.get(action_key)
        if hit is None:
            if len(self._plans) >= _PLAN_CACHE_LIMIT:
                self._plans.clear()
            hit = self._plans[action_key] = self._build(action_key)
        return hit

    def _build(self, key: str) -> Plan:
        resource = (self.resource,) if self.resource is not None else ()
        return Plan(
            scps=tuple(_candidates(level, key, identity_side=True) for level in self.scps),
            rcps=tuple(_candidates(level, key, identity_side=False) for level in self.rcps),
            resource=_candidates(resource, key, identity_side=False),
            identity=_candidates(self.identity, key, identity_side=True),
            boundaries=_candidates(self.boundaries, key, identity_side=True) if self.boundaries else None,
            session=_candidates(self.session, key, identity_side=True) if self.session else None,
        )
