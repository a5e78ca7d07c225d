"""STS AssumeRole: the role's trust policy and the caller's own policies decide, through the one
evaluator; the session's claims are sealed into self-contained temporary credentials."""

from __future__ import annotations

import json
import zlib
from typing import Any

from rolehop.core import arn
from rolehop.core.arn import account_of
from rolehop.core.entities import Identity
from rolehop.core.errors import AccessDenied, AwsError, PackedPolicyTooLarge, ValidationError
from rolehop.core.policy.validate import validate_policy
from rolehop.core.session_token import SessionClaims
from rolehop.services.pipeline.authorize import ContextValue, compiled, decide, denied
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.mfa_check import check_mfa
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.sts.credentials import issue_credentials

CHAINED_MAX = 3600
SESSION_POLICY_MAX = 2048
PACKED_BUDGET = 2048  # bytes of compressed session policy + tags that make "100%" of PackedPolicySize


def _role(call: Call, role_arn: str) -> Identity | None:
    try:
        parsed = arn.parse_arn(role_arn)
    except AwsError as e:
        raise ValidationError(f"{role_arn} is invalid") from e
    if parsed.service != "iam" or parsed.resource_type != "role":
        raise ValidationError(f"{role_arn} is invalid")

    def load() -> Identity | None:
        with call.runtime.store.transaction() as tx:
            return tx.get_identity("role", parsed.account, parsed.resource_name)

    role = call.runtime.caches.roles_by_arn.get(role_arn, load)  # the STS hot path reads no database
    # a role ARN names its path too: a namesake on another path is not this role
    return role if role is not None and role.arn == role_arn else None


def _session_context(call: Call, p: Params) -> dict[str, ContextValue]:
    ctx: dict[str, ContextValue] = {"sts:RoleSessionName": p["RoleSessionName"]}
    if p.get("ExternalId"):
        ctx["sts:ExternalId"] = p["ExternalId"]
    if p.get("SourceIdentity"):
        ctx["sts:SourceIdentity"] = p["SourceIdentity"]
    tags = p.get("Tags") or []
    for tag in tags:
        ctx[f"aws:RequestTag/{tag['Key']}"] = tag["Value"]
    if tags:
        ctx["aws:TagKeys"] = [t["Key"] for t in tags]
    if p.get("TransitiveTagKeys"):
        ctx["sts:TransitiveTagKeys"] = list(p["TransitiveTagKeys"])
    return ctx


def _duration(call: Call, role: Identity, requested: int | None) -> int:
    duration = requested or 3600
    if call.caller.kind == "assumed-role" and duration > CHAINED_MAX:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit "
            "for roles assumed by role chaining."
        )
    if duration > (role.max_session_duration or 3600):
        raise ValidationError(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    return duration


def _session_policy(call: Call, p: Params) -> str:
    policy = p.get("Policy") or ""
    if len(policy) > SESSION_POLICY_MAX:
        raise ValidationError(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            f"Member must have length less than or equal to {SESSION_POLICY_MAX}"
        )
    if policy:
        validate_policy(policy, "session")
        compiled(call.runtime, policy, "session-policy")
    return policy


def _packed_size(policy: str, arns: list[str], tags: list[tuple[str, str]]) -> int:
    packed = zlib.compress(json.dumps([policy, arns, tags]).encode())
    percent = -(-len(packed) * 100 // PACKED_BUDGET)
    if percent > 100:
        raise PackedPolicyTooLarge(
            f"Packed size of session policies and session tags exceeds the limit by {percent - 100}%."
        )
    return percent


def _tags(call: Call, p: Params) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Session tags: the caller's transitive tags carry over and cannot be overridden."""
    inherited: dict[str, str] = {}
    transitive: list[str] = []
    claims = call.caller.claims
    if claims is not None and claims.kind == "assumed-role":
        keys = {k.lower() for k in claims.transitive_tag_keys}
        inherited = {k: v for k, v in claims.tags if k.lower() in keys}
        transitive = list(claims.transitive_tag_keys)
    requested = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    clash = {k.lower() for k in inherited} & {k.lower() for k in requested}
    if clash:
        raise AccessDenied(
            "Cannot set a session tag that overrides a transitive session tag: " + ", ".join(sorted(clash))
        )
    for key in p.get("TransitiveTagKeys") or []:
        if key not in requested:
            raise ValidationError(f"The transitive tag key {key} is not among the session tags.")
        transitive.append(key)
    return tuple({**inherited, **requested}.items()), tuple(transitive)


def _source_identity(call: Call, p: Params) -> str:
    inherited = call.caller.claims.source_identity if call.caller.claims else ""
    requested = p.get("SourceIdentity") or ""
    if inherited and requested and requested != inherited:
        raise AccessDenied("The source identity of a session cannot be changed once set.")
    return inherited or requested


def _trusted_role(
    call: Call, role_arn: str, role: Identity | None, p: Params, mfa_context: dict[str, ContextValue]
) -> Identity:
    """The trust policy and the caller's policies decide; a role that does not exist is judged as one
    whose trust policy names nobody, so that no answer tells which roles exist."""
    trust_text = role.trust_policy if role and role.trust_policy else '{"Statement":[]}'
    trust = compiled(call.runtime, trust_text, f"{role_arn}#trust")
    account = role.account_id if role else (account_of(role_arn) or call.caller.account_id)
    context = {**_session_context(call, p), **mfa_context}
    actions = ["sts:AssumeRole"]
    if p.get("Tags"):
        actions.append("sts:TagSession")
    if p.get("SourceIdentity"):
        actions.append("sts:SetSourceIdentity")
    for action in actions:
        decision = decide(
            call, action, role_arn, resource_account=account, context=context, resource_policy=trust
        )
        if decision.decision == "Allowed":
            continue
        error = denied(call, action, role_arn, decision, context)  # explanation recorded for operators
        if "resource" in decision.missing or {"resource", "rcp"} & set(decision.denied_in):
            # the role's side said no: AWS answers without a reason, which would tell whether it exists
            error = _bare_denial(call, action, role_arn)
        raise error
    if role is None:  # an empty trust policy allows no one: fail closed should that ever change
        raise _bare_denial(call, "sts:AssumeRole", role_arn)
    return role


def _bare_denial(call: Call, action: str, role_arn: str) -> AccessDenied:
    return AccessDenied(
        f"User: {call.caller.arn} is not authorized to perform: {action} on resource: {role_arn}"
    )


@operation("sts", "AssumeRole")
def assume_role(call: Call, p: Params) -> Result:
    caller = call.caller
    if caller.is_root:
        raise AccessDenied("Roles may not be assumed by root accounts.")
    found = _role(call, p["RoleArn"])
    mfa_context: dict[str, ContextValue] = {}
    mfa_time: int | None = None
    if p.get("SerialNumber") or p.get("TokenCode"):
        check_mfa(call, p.get("SerialNumber"), p.get("TokenCode"))
        mfa_time = int(call.now.timestamp())
        mfa_context = {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "0"}
    role = _trusted_role(call, p["RoleArn"], found, p, mfa_context)
    duration = _duration(call, role, p.get("DurationSeconds"))
    policy = _session_policy(call, p)
    policy_arns = [x["arn"] for x in p.get("PolicyArns") or []]
    tags, transitive = _tags(call, p)
    packed = _packed_size(policy, policy_arns, list(tags)) if policy or policy_arns or tags else None
    source_identity = _source_identity(call, p)
    session = p["RoleSessionName"]
    now = int(call.now.timestamp())
    inherited_mfa = caller.claims.mfa_auth_time if caller.claims and caller.claims.mfa_authenticated else None
    mfa_at = mfa_time or inherited_mfa
    claims = SessionClaims(
        access_key_id="",
        account_id=role.account_id,
        principal_arn=arn.assumed_role_arn(role.account_id, role.name, session),
        user_id=f"{role.unique_id}:{session}",
        kind="assumed-role",
        issued_at=now,
        expires_at=now + duration,
        source_arn=role.arn,
        mfa_authenticated=mfa_at is not None,
        mfa_auth_time=mfa_at,
        session_name=session,
        source_identity=source_identity,
        tags=tags,
        transitive_tag_keys=transitive,
        session_policy=policy,
        session_policy_arns=tuple(policy_arns),
        chained=caller.kind == "assumed-role",
        token_kind="role",
    )
    result: dict[str, Any] = {
        "Credentials": issue_credentials(call.runtime, claims),
        "AssumedRoleUser": {"AssumedRoleId": claims.user_id, "Arn": claims.principal_arn},
    }
    if packed is not None:
        result["PackedPolicySize"] = packed
    if source_identity:
        result["SourceIdentity"] = source_identity
    return result
