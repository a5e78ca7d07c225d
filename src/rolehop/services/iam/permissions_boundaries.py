"""Permissions boundaries of users and roles: Put/Delete{User,Role}PermissionsBoundary, one
implementation for both. (A boundary given at creation is set by CreateUser / CreateRole.)"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from rolehop.services.iam.common import NAME_PARAM, attachable_policy, existing
from rolehop.services.iam.protected_roles import refuse_if_service_linked
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation

Bounded = Literal["user", "role"]


def _put_boundary(call: Call, p: Params, kind: Bounded, action: str) -> Result:
    boundary = p["PermissionsBoundary"]
    target = existing(call, kind, p[NAME_PARAM[kind]], action, {"iam:PermissionsBoundary": boundary})
    refuse_if_service_linked(target)
    with call.runtime.store.transaction() as tx:
        attachable_policy(tx, boundary, target.account_id)
        tx.update_identity(replace(target, boundary_arn=boundary))
    call.runtime.changed()
    return {}


def _delete_boundary(call: Call, p: Params, kind: Bounded, action: str) -> Result:
    target = existing(call, kind, p[NAME_PARAM[kind]], action)
    refuse_if_service_linked(target)
    with call.runtime.store.transaction() as tx:
        tx.update_identity(replace(target, boundary_arn=None))
    call.runtime.changed()
    return {}


@operation("iam", "PutUserPermissionsBoundary")
def put_user_permissions_boundary(call: Call, p: Params) -> Result:
    return _put_boundary(call, p, "user", "iam:PutUserPermissionsBoundary")


@operation("iam", "DeleteUserPermissionsBoundary")
def delete_user_permissions_boundary(call: Call, p: Params) -> Result:
    return _delete_boundary(call, p, "user", "iam:DeleteUserPermissionsBoundary")


@operation("iam", "PutRolePermissionsBoundary")
def put_role_permissions_boundary(call: Call, p: Params) -> Result:
    return _put_boundary(call, p, "role", "iam:PutRolePermissionsBoundary")


@operation("iam", "DeleteRolePermissionsBoundary")
def delete_role_permissions_boundary(call: Call, p: Params) -> Result:
    return _delete_boundary(call, p, "role", "iam:DeleteRolePermissionsBoundary")
