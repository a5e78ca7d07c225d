"""GetAccountAuthorizationDetails: every user, group and role of the account with its policies, and
the managed policies with all their versions, in one listing.

The listing runs in AWS's order of sections (users, groups, roles, policies), each sorted by name
(policies by ARN), and one MaxItems/Marker pagination runs across the sections: the marker names the
last entry returned (its section and sort key), so entries added or removed between pages move no
other entry. The AWSManagedPolicy filter lists the AWS-managed policies attached to an identity of the
account (docs/decisions.md); documents are URL-encoded as IAM returns them (botocore decodes them).
Roles have no instance profiles yet in this tree: InstanceProfileList is empty.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from rolehop.core.entities import Identity, IdentityKind, ManagedPolicy
from rolehop.core.errors import InvalidInput
from rolehop.services.iam.common import paginate, tag_shapes
from rolehop.services.iam.shapes import policy_shape, version_shape
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx

FILTERS = ("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy")
# (section, the filter that selects it, its list in the response)
_SECTIONS = (
    ("0", "User", "UserDetailList"),
    ("1", "Group", "GroupDetailList"),
    ("2", "Role", "RoleDetailList"),
)
_POLICIES = "3"


@operation("iam", "GetAccountAuthorizationDetails")
def get_account_authorization_details(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetAccountAuthorizationDetails", "*")
    wanted = set(p.get("Filter") or FILTERS)
    unknown = wanted - set(FILTERS)
    if unknown:
        raise InvalidInput(f"Invalid Filter: {sorted(unknown)[0]}")
    account = call.caller.account_id
    rt = call.runtime
    rt.trail.flush()  # RoleLastUsed: this node's records still waiting for their batch
    with rt.store.transaction() as tx:
        entries: list[tuple[str, Any]] = []
        for section, name, _list in _SECTIONS:
            if name in wanted:
                kind: IdentityKind = "user" if name == "User" else "group" if name == "Group" else "role"
                entries += [(f"{section}/{i.name.lower()}", i) for i in tx.list_identities(kind, account)]
        policies: list[ManagedPolicy] = []
        if "AWSManagedPolicy" in wanted:
            policies += [x for x in tx.list_policies(None, counted_in=account) if x.attachment_count]
        if "LocalManagedPolicy" in wanted:
            policies += tx.list_policies(account, counted_in=account)
        entries += [(f"{_POLICIES}/{x.arn.lower()}", x) for x in policies]
        entries.sort(key=lambda e: e[0])
        page, more = paginate(entries, p, key=lambda e: e[0])
        result: dict[str, Any] = {
            "UserDetailList": [],
            "GroupDetailList": [],
            "RoleDetailList": [],
            "Policies": [],
        }
        for _key, entry in page:
            if isinstance(entry, ManagedPolicy):
                result["Policies"].append(_policy_detail(tx, entry))
            elif entry.kind == "user":
                result["UserDetailList"].append(_user_detail(tx, entry))
            elif entry.kind == "group":
                result["GroupDetailList"].append(_group_detail(tx, entry))
            else:
                result["RoleDetailList"].append(_role_detail(tx, entry))
    return {**result, **more}


def _inline(tx: Tx, identity: Identity) -> list[dict[str, str]]:
    return [
        {"PolicyName": x.name, "PolicyDocument": quote(x.document, safe="")}
        for x in sorted(tx.list_inline(identity.kind, identity.unique_id), key=lambda x: x.name)
    ]


def _attached(tx: Tx, identity: Identity) -> list[dict[str, str]]:
    return [
        {"PolicyName": x.name, "PolicyArn": x.arn}
        for x in sorted(tx.attached_policies(identity.kind, identity.unique_id), key=lambda x: x.arn)
    ]


def _boundary(identity: Identity, shape: dict[str, Any]) -> None:
    if identity.boundary_arn:
        shape["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": identity.boundary_arn,
        }


def _user_detail(tx: Tx, user: Identity) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.unique_id,
        "Arn": user.arn,
        "CreateDate": user.created_at,
        "UserPolicyList": _inline(tx, user),
        "GroupList": sorted(g.name for g in tx.groups_of(user.unique_id)),
        "AttachedManagedPolicies": _attached(tx, user),
    }
    _boundary(user, shape)
    shape["Tags"] = tag_shapes(tx.tags_of("user", user.unique_id))
    return shape


def _group_detail(tx: Tx, group: Identity) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.unique_id,
        "Arn": group.arn,
        "CreateDate": group.created_at,
        "GroupPolicyList": _inline(tx, group),
        "AttachedManagedPolicies": _attached(tx, group),
    }


def _role_detail(tx: Tx, role: Identity) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.unique_id,
        "Arn": role.arn,
        "CreateDate": role.created_at,
        "AssumeRolePolicyDocument": quote(role.trust_policy or "", safe=""),
        "InstanceProfileList": [],
        "RolePolicyList": _inline(tx, role),
        "AttachedManagedPolicies": _attached(tx, role),
    }
    _boundary(role, shape)
    shape["Tags"] = tag_shapes(tx.tags_of("role", role.unique_id))
    used = tx.last_attempts_by_principal([role.arn]).get(role.arn)
    shape["RoleLastUsed"] = {"LastUsedDate": used.at, "Region": used.region} if used else {}
    return shape


def _policy_detail(tx: Tx, policy: ManagedPolicy) -> dict[str, Any]:
    shape = policy_shape(policy)
    versions = sorted(tx.list_versions(policy.policy_id), key=lambda v: int(v.version_id[1:]), reverse=True)
    shape["PolicyVersionList"] = [version_shape(v, policy.default_version_id) for v in versions]
    return shape
