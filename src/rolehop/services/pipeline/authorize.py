"""Authorization of every call: the request context, the caller's policies, and one evaluator.

Nothing here decides by itself: the decision is `rolehop.core.policy.evaluate`'s. This module only
gathers its inputs (compiled once and cached) and turns a denial into AWS's AccessDenied message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from rolehop.core.arn import account_of
from rolehop.core.entities import ManagedPolicy
from rolehop.core.errors import AccessDenied
from rolehop.core.organization import RCP, SCP
from rolehop.core.policy import Decision, Policy, PolicySet, Request, evaluate, parse_policy
from rolehop.services.pipeline import denials
from rolehop.services.pipeline.caches import Levels, PrincipalKey, PrincipalPolicies
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.caller import Caller
from rolehop.services.pipeline.control_policies import control_policy_chain
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.store import Tx

ContextValue = str | Sequence[str]
ROOT_IN_OWN_ACCOUNT = parse_policy(
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
    name="root",
)
_PRINCIPAL_TYPE = MappingProxyType(
    {"root": "Account", "user": "User", "assumed-role": "AssumedRole", "federated-user": "FederatedUser"}
)
_AWS_OWNED = "aws"  # the account of AWS-managed policies' ARNs
_ALLOWS_NOTHING = '{"Statement":[]}'


def compiled(rt: Runtime, document: str, name: str) -> Policy:
    """Each distinct policy text is compiled once per node, never per request."""
    return rt.caches.compiled_policies.get(
        (name, document), lambda: parse_policy(document, name=name, lenient=True)
    )


def _held(rt: Runtime, tx: Tx, managed: ManagedPolicy | None, policy_arn: str, account_id: str) -> Policy:
    """A managed policy as held by an identity of `account_id`. One that does not resolve, or is another
    account's (stored before such attachments were refused), allows nothing: fail closed."""
    usable = managed is not None and managed.attachable_in(account_id)
    version = tx.get_version(managed.policy_id, managed.default_version_id) if managed and usable else None
    return compiled(rt, version.document if version else _ALLOWS_NOTHING, policy_arn)


def _identity_policies(rt: Runtime, tx: Tx, caller: Caller) -> tuple[tuple[Policy, ...], tuple[Policy, ...]]:
    """(identity-based policies, permissions boundary) of a user or of the role behind a session."""
    identity = caller.identity
    if identity is None:
        return (), ()
    owners = [identity]
    if identity.kind == "user":
        owners += tx.groups_of(identity.unique_id)
    docs: list[Policy] = []
    for owner in owners:
        for inline in tx.list_inline(owner.kind, owner.unique_id):
            docs.append(compiled(rt, inline.document, f"{owner.kind}/{owner.name}/{inline.name}"))
        for managed in tx.attached_policies(owner.kind, owner.unique_id):
            docs.append(_held(rt, tx, managed, managed.arn, identity.account_id))
    boundary: tuple[Policy, ...] = ()
    if identity.boundary_arn:
        limit = tx.get_policy(identity.boundary_arn)
        boundary = (_held(rt, tx, limit, identity.boundary_arn, identity.account_id),)
    return tuple(docs), boundary


def _session_policies(rt: Runtime, tx: Tx, caller: Caller) -> tuple[Policy, ...]:
    claims = caller.claims
    if claims is None or (not claims.session_policy and not claims.session_policy_arns):
        # a federated user's session without session policies has no permissions (STS API
        # reference, GetFederationToken): its session layer allows nothing
        federated = claims is not None and claims.token_kind == "federation"
        return (compiled(rt, _ALLOWS_NOTHING, "session-policy"),) if federated else ()
    docs = []
    if claims.session_policy:
        docs.append(compiled(rt, claims.session_policy, "session-policy"))
    # STS: managed session policies "must exist in the same account as the role" (or be AWS-managed)
    for policy_arn in claims.session_policy_arns:
        docs.append(_held(rt, tx, tx.get_policy(policy_arn), policy_arn, claims.account_id))
    return tuple(docs)


def control_policies(rt: Runtime, account_id: str, policy_type: str) -> Levels:
    """SCPs (or RCPs) binding an account, per level from the root down; () for the management account."""

    def load() -> Levels:
        levels = control_policy_chain(rt, account_id, policy_type)
        return tuple(
            tuple(compiled(rt, doc, f"{policy_type}/{i}") for doc in level) for i, level in enumerate(levels)
        )

    return rt.caches.control_policies.get((account_id, policy_type), load)


def policy_set(
    rt: Runtime,
    caller: Caller,
    *,
    resource_policy: Policy | None = None,
    rcps: Levels = (),
) -> PolicySet:
    def load() -> PrincipalPolicies:
        with rt.store.transaction() as tx:
            identity, boundary = _identity_policies(rt, tx, caller)
            return identity, boundary, _session_policies(rt, tx, caller)

    claims = caller.claims
    # sessions of one principal with the same session policies share compiled policies; a federated
    # user's ID ("ACCOUNT:name") is any caller's choice, so its sessions are keyed by their issuer too
    principal = (
        f"{caller.user_id}@{claims.issuer_id or 'root'}"
        if claims and caller.kind == "federated-user"
        else caller.user_id
    )
    key: PrincipalKey = (
        (principal, claims.session_policy, claims.session_policy_arns) if claims else (principal, "", ())
    )
    scps = control_policies(rt, caller.account_id, SCP)

    def build() -> PolicySet:
        identity, boundary, session = rt.caches.principal_policies.get(key, load)
        if caller.is_root or caller.federated_by_root:
            identity = (ROOT_IN_OWN_ACCOUNT,)  # everything in its account, except what an SCP denies
        return PolicySet(
            identity=identity,
            resource=resource_policy,
            boundaries=boundary,
            session=session,
            scps=scps,
            rcps=rcps,
        )

    # one PolicySet per principal and resource policy, so the engine's per-action plans are reused
    return rt.caches.policy_sets.get((key, resource_policy, scps, rcps), build)


def organization_id_of(rt: Runtime, account_id: str) -> str | None:
    """The ID of the organization `account_id` belongs to (None: it belongs to none)."""

    def load() -> str | None:
        with rt.store.transaction() as tx:
            org = tx.get_organization()
            account = tx.get_account(account_id)
        return org.org_id if org and account and account.in_organization else None

    return rt.caches.organization_ids.get(account_id, load)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def request_context(call: Call, extra: Mapping[str, ContextValue] | None = None) -> dict[str, ContextValue]:
    caller, now = call.caller, call.now
    ctx: dict[str, ContextValue] = {
        "aws:PrincipalArn": caller.identity.arn
        if caller.kind == "assumed-role" and caller.identity
        else caller.arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": _PRINCIPAL_TYPE[caller.kind],
        "aws:userid": caller.user_id,
        "aws:CurrentTime": _iso(now),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if call.secure_transport else "false",
        "aws:RequestedRegion": call.region,
    }
    org_id = organization_id_of(call.runtime, caller.account_id)
    if org_id is not None:  # AWS sets the key only for a principal whose account is in an organization
        ctx["aws:PrincipalOrgID"] = org_id
    if caller.user_name:
        ctx["aws:username"] = caller.user_name
    if call.source_ip:
        ctx["aws:SourceIp"] = call.source_ip
    claims = caller.claims
    if claims is not None:
        # temporary credentials always say whether MFA was used; long-term keys leave the key absent
        ctx["aws:MultiFactorAuthPresent"] = "true" if claims.mfa_authenticated else "false"
        ctx["aws:TokenIssueTime"] = _iso(datetime.fromtimestamp(claims.issued_at, now.tzinfo))
        if claims.mfa_authenticated and claims.mfa_auth_time is not None:
            ctx["aws:MultiFactorAuthAge"] = str(max(0, int(now.timestamp()) - claims.mfa_auth_time))
        if claims.source_identity:
            ctx["aws:SourceIdentity"] = claims.source_identity
        for key, value in claims.tags:
            ctx[f"aws:PrincipalTag/{key}"] = value
    for key, value in principal_tags(call.runtime, caller).items():
        ctx.setdefault(f"aws:PrincipalTag/{key}", value)
    if extra:
        ctx.update(extra)
    return ctx


def principal_tags(rt: Runtime, caller: Caller) -> Mapping[str, str]:
    identity = caller.identity
    if identity is None:
        return {}

    def load() -> Mapping[str, str]:
        with rt.store.transaction() as tx:
            return {t.key: t.value for t in tx.tags_of(identity.kind, identity.unique_id)}

    return rt.caches.principal_tags.get(identity.unique_id, load)


def _resource_owner(caller: Caller, resource: str, resource_account: str | None = None) -> str:
    """The account a resource counts as. AWS-managed policies are every account's own: an identity
    policy's Allow suffices to read them, as in AWS (the engine's guardrail keeps them read-only)."""
    owner = resource_account or account_of(resource) or caller.account_id
    return caller.account_id if owner == _AWS_OWNED else owner


def decide(
    call: Call,
    action: str,
    resource: str,
    *,
    resource_account: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
    resource_policy: Policy | None = None,
) -> Decision:
    caller = call.caller
    owner = _resource_owner(caller, resource, resource_account)
    request = Request(
        principal=caller.arn,
        action=action,
        resource=resource,
        resource_account=owner,
        context=request_context(call, context),
    )
    # RCPs guard resources of member accounts in the services that support them (of ours: STS)
    rcps = control_policies(call.runtime, owner, RCP) if action.lower().startswith("sts:") else ()
    decision = evaluate(request, policy_set(call.runtime, caller, resource_policy=resource_policy, rcps=rcps))
    call.runtime.meter.decision(decision.decision)
    return decision


def authorize(
    call: Call,
    action: str,
    resource: str,
    *,
    resource_account: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
) -> None:
    """Raises AccessDenied unless the caller may perform `action` on `resource`."""
    decision = decide(call, action, resource, resource_account=resource_account, context=context)
    if decision.decision != "Allowed":
        raise denied(call, action, resource, decision, context)


def denied(
    call: Call,
    action: str,
    resource: str,
    decision: Decision,
    context: Mapping[str, ContextValue] | None = None,
) -> AccessDenied:
    """The AccessDenied for a decision, its explanation recorded under the request ID."""
    encoded = denials.record(call, action, resource, decision, request_context(call, context))
    return AccessDenied(denials.denial_message(call.caller.arn, action, resource, decision) + encoded)
