"""STS GetFederationToken: a federated user's session, asked for with an IAM user's (or, not
recommended, the root user's) long-term keys.

The session's permissions are the intersection of its issuer's identity policies (and permissions
boundary) with the session policies passed here; without any session policy it has none (STS API
reference). Its credentials reach no IAM operation and no STS operation but GetCallerIdentity
(pipeline.authenticate.check_session_scope)."""

from __future__ import annotations

from typing import Any

from rolehop.core import arn
from rolehop.core.errors import AccessDenied
from rolehop.core.session_token import SessionClaims
from rolehop.services.pipeline.authorize import ContextValue, authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.sts.assume_role import _packed_size, _session_policy
from rolehop.services.sts.credentials import issue_credentials

FEDERATION_DEFAULT = 43200
ROOT_FEDERATION_MAX = 3600


def _tag_context(tags: list[dict[str, str]]) -> dict[str, ContextValue]:
    ctx: dict[str, ContextValue] = {f"aws:RequestTag/{t['Key']}": t["Value"] for t in tags}
    if tags:
        ctx["aws:TagKeys"] = [t["Key"] for t in tags]
    return ctx


@operation("sts", "GetFederationToken")
def get_federation_token(call: Call, p: Params) -> Result:
    caller = call.caller
    if caller.claims is not None:  # role sessions and every other temporary credential
        raise AccessDenied("Cannot call GetFederationToken with session credentials")
    name = p["Name"]
    federated_arn = arn.federated_user_arn(caller.account_id, name)
    requested_tags = list(p.get("Tags") or [])
    context = _tag_context(requested_tags)
    authorize(call, "sts:GetFederationToken", federated_arn, context=context)
    if requested_tags:  # session tags need sts:TagSession too (IAM User Guide, session tags)
        authorize(call, "sts:TagSession", federated_arn, context=context)
    duration = int(p.get("DurationSeconds") or FEDERATION_DEFAULT)
    if caller.is_root:
        duration = min(duration, ROOT_FEDERATION_MAX)  # AWS: root's sessions "default to one hour"
    policy = _session_policy(call, p)
    policy_arns = [x["arn"] for x in p.get("PolicyArns") or []]
    tags = tuple((t["Key"], t["Value"]) for t in requested_tags)
    packed = _packed_size(policy, policy_arns, list(tags)) if policy or policy_arns or tags else None
    now = int(call.now.timestamp())
    issuer = caller.identity.unique_id if caller.kind == "user" and caller.identity else ""
    claims = SessionClaims(
        access_key_id="",
        account_id=caller.account_id,
        principal_arn=federated_arn,
        user_id=f"{caller.account_id}:{name}",
        kind="federated-user",
        issued_at=now,
        expires_at=now + duration,
        source_arn=caller.arn,
        session_name=name,
        tags=tags,
        session_policy=policy,
        session_policy_arns=tuple(policy_arns),
        token_kind="federation",
        issuer_id=issuer,
    )
    result: dict[str, Any] = {
        "Credentials": issue_credentials(call.runtime, claims),
        "FederatedUser": {"FederatedUserId": claims.user_id, "Arn": federated_arn},
    }
    if packed is not None:
        result["PackedPolicySize"] = packed
    return result
