"""AWS's policy evaluation logic (IAM User Guide, "Policy evaluation logic", "Policy evaluation
for requests within a single account", "Cross-account policy evaluation logic", "Permissions
boundaries", "Session policies").

1. An explicit Deny in any applicable policy decides: ExplicitlyDenied.
2. Every SCP level (root first) must allow, for principals of an organization's accounts (IAM
   users, roles, sessions, root; not anonymous callers, service principals or service-linked
   roles). `scps=()` means "no SCPs apply" (no organization, or the management account).
3. Every RCP level must allow.
4. Anonymous callers and service principals get only what the resource policy grants.
5. Same account: an identity-based Allow, limited by any permissions boundary and session
   policies, suffices; so does a resource-policy Allow that names the caller: naming the user
   or the session ARN grants directly, naming the role ARN (or "*") still needs the boundary and
   session policies to allow; naming only the account delegates to identity-based policies.
   KMS keys and role trust policies must themselves allow (a key policy or trust policy is
   required, IAM User Guide and KMS Developer Guide).
6. Cross-account: the identity side (identity ∩ boundary ∩ session) and the resource policy
   must both allow.
Policies in the identity-side layers ignore Principal on Deny and never Allow with one; a
resource-policy statement without Principal applies to no one. In a resource policy, a Deny with
NotPrincipal applies to every principal that has a permissions boundary (IAM User Guide,
"Permissions boundaries", Important note).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rolehop.core.policy.guardrails import ALWAYS_ALLOWED, aws_owned_resource_change
from rolehop.core.policy.model import Match, Statement
from rolehop.core.policy.policyset import PolicySet, Statements
from rolehop.core.policy.principals import Kind, Named
from rolehop.core.policy.request import Request

DecisionName = Literal["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"]
Layer = Literal["scp", "rcp", "resource", "identity", "boundary", "session", "aws-managed"]
_RESOURCE_POLICY_REQUIRED = ("sts:assumerole", "sts:tagsession", "sts:setsourceidentity", "sts:setcontext")


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, the statements that decided it (the Denies, or the Allows that took part),
    and the layers that lacked an Allow when it is ImplicitlyDenied."""

    decision: DecisionName
    matched: tuple[Match, ...] = ()
    missing: tuple[Layer, ...] = ()
    denied_in: tuple[Layer, ...] = ()  # the layers whose Deny statements decided an ExplicitlyDenied

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"


_GRANTED = Decision("Allowed")


class _Scan:
    """Allow and Deny statements that matched, and how the resource policy names the caller."""

    __slots__ = ("allows", "denied_in", "denies", "named")

    def __init__(self) -> None:
        self.allows: list[Statement] = []
        self.denies: list[Statement] = []
        self.denied_in: list[Layer] = []
        self.named = Named.NONE

    def deny(self, st: Statement, layer: Layer) -> None:
        self.denies.append(st)
        if layer not in self.denied_in:
            self.denied_in.append(layer)

    def identity_side(self, statements: Statements, req: Request, layer: Layer = "identity") -> bool:
        found = False
        ctx = req.ctx
        for st in statements:
            if not st.resource_any and not st.matches_resource(req):
                continue
            if st.conditions and not st.matches_conditions(ctx):
                continue
            if st.effect == "Deny":
                self.deny(st, layer)
            else:
                self.allows.append(st)
                found = True
        return found

    def resource_side(self, statements: Statements, req: Request, *, rcp: bool, boundary: bool) -> bool:
        found = False
        for st in statements:
            if rcp and st.effect == "Allow" and st.resources is None:
                continue
            named = _named(st, req, rcp=rcp, boundary=boundary)
            if named is Named.NONE or not st.matches_resource(req) or not st.matches_conditions(req.ctx):
                continue
            if st.effect == "Deny":
                self.deny(st, "rcp" if rcp else "resource")
            else:
                self.allows.append(st)
                found = True
                if not rcp and named > self.named:
                    self.named = named
        return found


def _named(st: Statement, req: Request, *, rcp: bool, boundary: bool) -> Named:
    spec = st.principal
    if spec is None:
        return Named.ANYONE if rcp else Named.NONE
    named = spec.named(req.caller)
    if not st.not_principal:
        return named
    if st.effect == "Deny" and boundary:
        return Named.ANYONE  # NotPrincipal+Deny always applies under a permissions boundary
    return Named.ANYONE if named is Named.NONE else Named.NONE


def _service_linked(req: Request) -> bool:
    caller = req.caller
    if caller.role_path is not None and caller.role_path.startswith("/aws-service-role/"):
        return True
    arn = req.ctx.get("aws:principalarn")
    # the role's own ARN (resource part "role/aws-service-role/…"), never a substring of any ARN:
    # a user path may contain ":role/aws-service-role/"
    if not isinstance(arn, str):
        return False
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/aws-service-role/")


def _resource_policy_required(req: Request) -> bool:
    parts = req.resource_parts
    if parts is None:
        return False
    if parts[2] == "kms":
        return parts[5].startswith("key/")
    return req.action_key.startswith(_RESOURCE_POLICY_REQUIRED) and parts[5].startswith("role/")


def evaluate(req: Request, sets: PolicySet) -> Decision:
    if req.action_key in ALWAYS_ALLOWED:
        return _GRANTED
    caller = req.caller
    plan = sets.plan(req.action_key)
    scan = _Scan()
    missing: list[Layer] = []
    if caller.is_iam and not _service_linked(req):
        for level in plan.scps:
            if not (level and scan.identity_side(level, req, "scp")) and "scp" not in missing:
                missing.append("scp")
    boundary = plan.boundaries is not None and caller.is_iam
    for level in plan.rcps:
        if not scan.resource_side(level, req, rcp=True, boundary=boundary) and "rcp" not in missing:
            missing.append("rcp")
    if plan.resource:
        scan.resource_side(plan.resource, req, rcp=False, boundary=boundary)
    identity = bounded = sessioned = False
    if caller.is_iam:
        identity = bool(plan.identity) and scan.identity_side(plan.identity, req)
        identity = identity or caller.kind is Kind.ROOT
        bounded = plan.boundaries is None or (
            bool(plan.boundaries) and scan.identity_side(plan.boundaries, req, "boundary")
        )
        sessioned = plan.session is None or (
            bool(plan.session) and scan.identity_side(plan.session, req, "session")
        )
    if scan.denies:
        return Decision("ExplicitlyDenied", _matches(scan.denies), denied_in=tuple(scan.denied_in))
    if not caller.is_iam:
        if scan.named is Named.NONE:
            missing.append("resource")
    else:
        missing.extend(_principal_gaps(req, scan.named, identity, bounded, sessioned))
    if not missing and aws_owned_resource_change(req):
        missing.append("aws-managed")
    if missing:
        return Decision("ImplicitlyDenied", _matches(scan.allows), tuple(missing))
    return Decision("Allowed", _matches(scan.allows))


def _principal_gaps(
    req: Request, named: Named, identity: bool, bounded: bool, sessioned: bool
) -> list[Layer]:
    """The layers that lack an Allow for an IAM caller (empty when the request is allowed)."""
    limits_ok = bounded and sessioned
    if req.same_account:
        required = _resource_policy_required(req)
        via_resource = named is Named.DIRECT or (named >= Named.ANYONE and limits_ok)
        via_identity = identity and limits_ok and (not required or named >= Named.ACCOUNT)
        if via_resource or via_identity:
            return []
        need_resource = required and named is Named.NONE
    else:
        if identity and limits_ok and named >= Named.ACCOUNT:
            return []
        need_resource = named is Named.NONE
    gaps: list[Layer] = []
    if not identity and named < Named.ANYONE:
        gaps.append("identity")
    if not bounded:
        gaps.append("boundary")
    if not sessioned:
        gaps.append("session")
    if need_resource:
        gaps.append("resource")
    return gaps or ["identity"]


def _matches(hits: list[Statement]) -> tuple[Match, ...]:
    return tuple([st.match for st in hits])
