"""Inline policies of users, groups and roles: Put/Get/Delete/List{User,Group,Role}Policy,
one implementation for the three, each operation written out."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import quote

from rolehop.core.entities import IdentityKind, InlinePolicy
from rolehop.core.errors import NoSuchEntity
from rolehop.core.policy.validate import (
    GROUP_INLINE_MAX,
    ROLE_INLINE_MAX,
    USER_INLINE_MAX,
    inline_policy_too_large,
    policy_size,
)
from rolehop.services.iam.common import NAME_PARAM, existing, hold, paginate
from rolehop.services.iam.policy_documents import checked_document, decoded
from rolehop.services.iam.protected_roles import refuse_if_service_linked
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation

_MAX_CHARS: Mapping[IdentityKind, int] = MappingProxyType(
    {
        "user": USER_INLINE_MAX,
        "group": GROUP_INLINE_MAX,
        "role": ROLE_INLINE_MAX,
    }
)


def _put(call: Call, p: Params, kind: IdentityKind, action: str) -> Result:
    owner = existing(call, kind, p[NAME_PARAM[kind]], action)
    refuse_if_service_linked(owner)
    document = checked_document(decoded(p["PolicyDocument"]), "identity", None, managed=False)
    with call.runtime.store.transaction() as tx:
        hold(tx, owner)  # the size quota covers concurrent puts too
        # the quota covers all of an identity's inline policies together
        others = [x for x in tx.list_inline(kind, owner.unique_id) if x.name != p["PolicyName"]]
        if sum(policy_size(x.document) for x in others) + policy_size(document) > _MAX_CHARS[kind]:
            raise inline_policy_too_large(kind, owner.name, _MAX_CHARS[kind])
        tx.put_inline(InlinePolicy(kind, owner.unique_id, p["PolicyName"], document))
    call.runtime.changed()
    return {}


def _get(call: Call, p: Params, kind: IdentityKind, action: str) -> Result:
    owner = existing(call, kind, p[NAME_PARAM[kind]], action)
    with call.runtime.store.transaction() as tx:
        found = tx.get_inline(kind, owner.unique_id, p["PolicyName"])
    if found is None:
        raise NoSuchEntity(f"The {kind} policy with name {p['PolicyName']} cannot be found.")
    return {
        NAME_PARAM[kind]: owner.name,
        "PolicyName": found.name,
        "PolicyDocument": quote(found.document, safe=""),
    }


def _delete(call: Call, p: Params, kind: IdentityKind, action: str) -> Result:
    owner = existing(call, kind, p[NAME_PARAM[kind]], action)
    refuse_if_service_linked(owner)
    with call.runtime.store.transaction() as tx:
        if tx.get_inline(kind, owner.unique_id, p["PolicyName"]) is None:
            raise NoSuchEntity(f"The {kind} policy with name {p['PolicyName']} cannot be found.")
        tx.delete_inline(kind, owner.unique_id, p["PolicyName"])
    call.runtime.changed()
    return {}


def _list(call: Call, p: Params, kind: IdentityKind, action: str) -> Result:
    owner = existing(call, kind, p[NAME_PARAM[kind]], action)
    with call.runtime.store.transaction() as tx:
        names = [x.name for x in tx.list_inline(kind, owner.unique_id)]
    page, more = paginate(names, p, key=lambda n: n)
    return {"PolicyNames": page, **more}


@operation("iam", "PutUserPolicy")
def put_user_policy(call: Call, p: Params) -> Result:
    return _put(call, p, "user", "iam:PutUserPolicy")


@operation("iam", "GetUserPolicy")
def get_user_policy(call: Call, p: Params) -> Result:
    return _get(call, p, "user", "iam:GetUserPolicy")


@operation("iam", "DeleteUserPolicy")
def delete_user_policy(call: Call, p: Params) -> Result:
    return _delete(call, p, "user", "iam:DeleteUserPolicy")


@operation("iam", "ListUserPolicies")
def list_user_policies(call: Call, p: Params) -> Result:
    return _list(call, p, "user", "iam:ListUserPolicies")


@operation("iam", "PutGroupPolicy")
def put_group_policy(call: Call, p: Params) -> Result:
    return _put(call, p, "group", "iam:PutGroupPolicy")


@operation("iam", "GetGroupPolicy")
def get_group_policy(call: Call, p: Params) -> Result:
    return _get(call, p, "group", "iam:GetGroupPolicy")


@operation("iam", "DeleteGroupPolicy")
def delete_group_policy(call: Call, p: Params) -> Result:
    return _delete(call, p, "group", "iam:DeleteGroupPolicy")


@operation("iam", "ListGroupPolicies")
def list_group_policies(call: Call, p: Params) -> Result:
    return _list(call, p, "group", "iam:ListGroupPolicies")


@operation("iam", "PutRolePolicy")
def put_role_policy(call: Call, p: Params) -> Result:
    return _put(call, p, "role", "iam:PutRolePolicy")


@operation("iam", "GetRolePolicy")
def get_role_policy(call: Call, p: Params) -> Result:
    return _get(call, p, "role", "iam:GetRolePolicy")


@operation("iam", "DeleteRolePolicy")
def delete_role_policy(call: Call, p: Params) -> Result:
    return _delete(call, p, "role", "iam:DeleteRolePolicy")


@operation("iam", "ListRolePolicies")
def list_role_policies(call: Call, p: Params) -> Result:
    return _list(call, p, "role", "iam:ListRolePolicies")
