"""IAM roles: CreateRole, GetRole, UpdateRole, UpdateRoleDescription, DeleteRole, ListRoles,
UpdateAssumeRolePolicy, tags and permissions boundaries.
(Role policies live in iam_policies and iam_inline_policies.)"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from rolehop.core import arn
from rolehop.core.entities import Identity, Tag
from rolehop.core.errors import DeleteConflict
from rolehop.core.ids import ROLE_PREFIX
from rolehop.core.policy.validate import TRUST_POLICY_MAX
from rolehop.services.iam.common import (
    check_path,
    create_identity,
    existing,
    hold,
    paginate,
    tag_shapes,
)
from rolehop.services.iam.policy_documents import checked_document, decoded
from rolehop.services.iam.protected_roles import refuse_if_service_linked
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.trail import LastUse

DEFAULT_MAX_SESSION = 3600


def role_shape(
    role: Identity, tags: list[Tag] | None = None, *, full: bool = True, last_used: LastUse | None = None
) -> dict[str, Any]:
    """`full`: GetRole's shape, with RoleLastUsed ({} when the role has not been used)."""
    shape: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.unique_id,
        "Arn": role.arn,
        "CreateDate": role.created_at,
        "AssumeRolePolicyDocument": quote(role.trust_policy or "", safe=""),
        "MaxSessionDuration": role.max_session_duration or DEFAULT_MAX_SESSION,
    }
    if role.description:
        shape["Description"] = role.description
    if role.boundary_arn:
        shape["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": role.boundary_arn,
        }
    if tags:
        shape["Tags"] = tag_shapes(tags)
    if full:
        shape["RoleLastUsed"] = {}
        if last_used is not None:
            shape["RoleLastUsed"] = {"LastUsedDate": last_used.at, "Region": last_used.region}
    return shape


def trust_document(text: str) -> str:
    return checked_document(decoded(text), "trust", TRUST_POLICY_MAX)


@operation("iam", "CreateRole")
def create_role(call: Call, p: Params) -> Result:
    trust = trust_document(p["AssumeRolePolicyDocument"])
    role, tags = create_identity(
        call,
        "role",
        ROLE_PREFIX,
        p,
        description=p.get("Description"),
        trust_policy=trust,
        max_session_duration=p.get("MaxSessionDuration") or DEFAULT_MAX_SESSION,
    )
    return {"Role": role_shape(role, tags, full=False)}


@operation("iam", "GetRole")
def get_role(call: Call, p: Params) -> Result:
    role = existing(call, "role", p["RoleName"], "iam:GetRole")
    call.runtime.trail.flush()  # this node's records still waiting for their batch
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of("role", role.unique_id)
        # the newest request made with a session of the role (refused ones too), from the audit trail
        used = tx.last_attempts_by_principal([role.arn]).get(role.arn)
    return {"Role": role_shape(role, tags, last_used=used)}


@operation("iam", "ListRoles")
def list_roles(call: Call, p: Params) -> Result:
    prefix = check_path(p.get("PathPrefix"))
    authorize(call, "iam:ListRoles", arn.iam_arn(call.caller.account_id, "role", "/", ""))
    with call.runtime.store.transaction() as tx:
        roles = tx.list_identities("role", call.caller.account_id, prefix)
    page, more = paginate(roles, p, key=lambda r: r.name.lower())
    return {"Roles": [role_shape(r, full=False) for r in page], **more}


@operation("iam", "UpdateRole")
def update_role(call: Call, p: Params) -> Result:
    role = existing(call, "role", p["RoleName"], "iam:UpdateRole")
    if p.get("MaxSessionDuration"):  # a service-linked role's description may change, nothing else
        refuse_if_service_linked(role)
    changed = replace(
        role,
        description=p.get("Description", role.description),
        max_session_duration=p.get("MaxSessionDuration") or role.max_session_duration,
    )
    with call.runtime.store.transaction() as tx:
        tx.update_identity(changed)
    call.runtime.changed()
    return {}


@operation("iam", "UpdateRoleDescription")
def update_role_description(call: Call, p: Params) -> Result:
    role = existing(call, "role", p["RoleName"], "iam:UpdateRoleDescription")
    role = replace(role, description=p["Description"])
    with call.runtime.store.transaction() as tx:
        tx.update_identity(role)
    call.runtime.changed()
    return {"Role": role_shape(role)}


@operation("iam", "UpdateAssumeRolePolicy")
def update_assume_role_policy(call: Call, p: Params) -> Result:
    role = existing(call, "role", p["RoleName"], "iam:UpdateAssumeRolePolicy")
    refuse_if_service_linked(role)
    trust = trust_document(p["PolicyDocument"])
    with call.runtime.store.transaction() as tx:
        tx.update_identity(replace(role, trust_policy=trust))
    call.runtime.changed()
    return {}


@operation("iam", "DeleteRole")
def delete_role(call: Call, p: Params) -> Result:
    role = existing(call, "role", p["RoleName"], "iam:DeleteRole")
    refuse_if_service_linked(role)  # DeleteServiceLinkedRole deletes those
    with call.runtime.store.transaction() as tx:
        hold(tx, role)  # no policy is attached or put while this checks and deletes
        if tx.attached_policies("role", role.unique_id):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if tx.list_inline("role", role.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if tx.instance_profiles_of_role(role.unique_id):
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        tx.delete_identity(role.unique_id)
    call.runtime.changed()
    return {}
