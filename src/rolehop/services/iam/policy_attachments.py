"""Managed policies attached to users, groups and roles: Attach/Detach/ListAttached{User,Group,Role}Policy
(one implementation for the three, each operation written out) and ListEntitiesForPolicy."""

from __future__ import annotations

from typing import Any

from rolehop.core.entities import Identity, IdentityKind
from rolehop.core.errors import LimitExceeded, NoSuchEntity
from rolehop.services.iam.common import NAME_PARAM, attachable_policy, check_path, existing, hold, paginate
from rolehop.services.iam.policies import existing_policy
from rolehop.services.iam.policy_documents import checked_policy_arn
from rolehop.services.iam.protected_roles import refuse_if_service_linked
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation

MANAGED_PER_IDENTITY = 10


def _policy_and_target(call: Call, p: Params, kind: IdentityKind, action: str) -> tuple[str, Identity]:
    """The policy ARN (checked) and the identity, once `action` is allowed on it for that policy."""
    policy_arn = checked_policy_arn(p["PolicyArn"])
    target = existing(call, kind, p[NAME_PARAM[kind]], action, {"iam:PolicyARN": policy_arn})
    refuse_if_service_linked(target)
    return policy_arn, target


def _attach(call: Call, p: Params, kind: IdentityKind, action: str) -> Result:
    policy_arn, target = _policy_and_target(call, p, kind, action)
    with call.runtime.store.transaction() as tx:
        hold(tx, target)  # attaches to one identity count against its quota one at a time
        policy = attachable_policy(tx, policy_arn, target.account_id)
        attached = tx.attached_policies(kind, target.unique_id)
        if policy.policy_id not in {a.policy_id for a in attached} and len(attached) >= MANAGED_PER_IDENTITY:
            raise LimitExceeded(
                f"Cannot exceed quota for PoliciesPer{kind.capitalize()}: {MANAGED_PER_IDENTITY}"
            )
        tx.attach(policy.policy_id, kind, target.unique_id)
    call.runtime.changed()
    return {}


def _detach(call: Call, p: Params, kind: IdentityKind, action: str) -> Result:
    policy_arn, target = _policy_and_target(call, p, kind, action)
    with call.runtime.store.transaction() as tx:
        attached = {a.arn: a for a in tx.attached_policies(kind, target.unique_id)}
        if policy_arn not in attached:
            raise NoSuchEntity(f"Policy {policy_arn} was not found.")
        tx.detach(attached[policy_arn].policy_id, kind, target.unique_id)
    call.runtime.changed()
    return {}


def _list_attached(call: Call, p: Params, kind: IdentityKind, action: str) -> Result:
    target = existing(call, kind, p[NAME_PARAM[kind]], action)
    prefix = check_path(p.get("PathPrefix"))
    with call.runtime.store.transaction() as tx:
        attached = [a for a in tx.attached_policies(kind, target.unique_id) if a.path.startswith(prefix)]
    page, more = paginate(attached, p, key=lambda a: a.arn.lower())
    return {"AttachedPolicies": [{"PolicyName": a.name, "PolicyArn": a.arn} for a in page], **more}


@operation("iam", "AttachUserPolicy")
def attach_user_policy(call: Call, p: Params) -> Result:
    return _attach(call, p, "user", "iam:AttachUserPolicy")


@operation("iam", "DetachUserPolicy")
def detach_user_policy(call: Call, p: Params) -> Result:
    return _detach(call, p, "user", "iam:DetachUserPolicy")


@operation("iam", "ListAttachedUserPolicies")
def list_attached_user_policies(call: Call, p: Params) -> Result:
    return _list_attached(call, p, "user", "iam:ListAttachedUserPolicies")


@operation("iam", "AttachGroupPolicy")
def attach_group_policy(call: Call, p: Params) -> Result:
    return _attach(call, p, "group", "iam:AttachGroupPolicy")


@operation("iam", "DetachGroupPolicy")
def detach_group_policy(call: Call, p: Params) -> Result:
    return _detach(call, p, "group", "iam:DetachGroupPolicy")


@operation("iam", "ListAttachedGroupPolicies")
def list_attached_group_policies(call: Call, p: Params) -> Result:
    return _list_attached(call, p, "group", "iam:ListAttachedGroupPolicies")


@operation("iam", "AttachRolePolicy")
def attach_role_policy(call: Call, p: Params) -> Result:
    return _attach(call, p, "role", "iam:AttachRolePolicy")


@operation("iam", "DetachRolePolicy")
def detach_role_policy(call: Call, p: Params) -> Result:
    return _detach(call, p, "role", "iam:DetachRolePolicy")


@operation("iam", "ListAttachedRolePolicies")
def list_attached_role_policies(call: Call, p: Params) -> Result:
    return _list_attached(call, p, "role", "iam:ListAttachedRolePolicies")


@operation("iam", "ListEntitiesForPolicy")
def list_entities_for_policy(call: Call, p: Params) -> Result:
    """The caller's account's entities only: an AWS-managed policy is attached in every account."""
    policy = existing_policy(call, p["PolicyArn"], "iam:ListEntitiesForPolicy")
    wanted = p.get("EntityFilter")
    out: dict[str, list[dict[str, Any]]] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    with call.runtime.store.transaction() as tx:
        for kind, principal_id in tx.attachments_of(policy.policy_id):
            ident = tx.get_identity_by_id(principal_id)
            if (
                ident is None
                or ident.account_id != call.caller.account_id
                or (wanted and wanted.lower() != kind)
            ):
                continue
            out[f"Policy{kind.capitalize()}s"].append(
                {f"{kind.capitalize()}Name": ident.name, f"{kind.capitalize()}Id": ident.unique_id}
            )
    return {**out, "IsTruncated": False}
