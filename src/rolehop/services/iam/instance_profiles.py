"""IAM instance profiles: Create/Get/List/DeleteInstanceProfile, Add/RemoveRoleToInstanceProfile,
ListInstanceProfilesForRole, and their tags (Tag/Untag/ListInstanceProfileTags)."""

from __future__ import annotations

from typing import Any

from rolehop.core import arn
from rolehop.core.entities import Identity, Tag
from rolehop.core.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from rolehop.core.ids import INSTANCE_PROFILE_PREFIX, unique_id
from rolehop.services.iam.common import (
    add_tags,
    authorize_tagged,
    check_path,
    existing,
    hold,
    paginate,
    remove_tag_keys,
    request_tag_context,
    tag_shapes,
    tags_param,
)
from rolehop.services.iam.protected_roles import refuse_if_service_linked
from rolehop.services.iam.roles import role_shape
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.instance_profiles import InstanceProfile
from rolehop.services.ports.store import Tx

KIND = "instance-profile"  # the tags' resource kind and the ARN's resource type
ROLES_PER_PROFILE = 1  # IAM's quota InstanceSessionsPerInstanceProfile (not adjustable)


def profile_shape(
    profile: InstanceProfile, roles: list[Identity], tags: list[Tag] | None = None
) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": profile.path,
        "InstanceProfileName": profile.name,
        "InstanceProfileId": profile.profile_id,
        "Arn": profile.arn,
        "CreateDate": profile.created_at,
        "Roles": [role_shape(r, full=False) for r in roles],
    }
    if tags:
        shape["Tags"] = tag_shapes(tags)
    return shape


def _roles_of(tx: Tx, profile: InstanceProfile) -> list[Identity]:
    found = (tx.get_identity_by_id(role_id) for role_id in tx.instance_profile_role_ids(profile.profile_id))
    return sorted((r for r in found if r is not None), key=lambda r: r.name.lower())


def _existing(
    call: Call, name: str, action: str, context: dict[str, str | list[str]] | None = None
) -> InstanceProfile:
    """Authorize `action` on the profile's ARN (with its tags as aws:ResourceTag/…), then return it."""
    account = call.caller.account_id
    with call.runtime.store.transaction() as tx:
        found = tx.get_instance_profile(account, name)
        tags = tx.tags_of(KIND, found.profile_id) if found else []
    target = found.arn if found else arn.iam_arn(account, KIND, "/", name)
    authorize_tagged(call, action, target, tags, context)
    if found is None:
        raise NoSuchEntity(f"Instance Profile {name} cannot be found.")
    return found


def _held(tx: Tx, profile: InstanceProfile) -> InstanceProfile:
    found = tx.lock_instance_profile(profile.profile_id)
    if found is None:
        raise NoSuchEntity(f"Instance Profile {profile.name} cannot be found.")
    return found


@operation("iam", "CreateInstanceProfile")
def create_instance_profile(call: Call, p: Params) -> Result:
    path = check_path(p.get("Path"))
    name = p["InstanceProfileName"]
    tags = tags_param(p)
    rt = call.runtime
    profile = InstanceProfile(
        unique_id(INSTANCE_PROFILE_PREFIX, rt.random(11)), call.caller.account_id, name, path, call.now
    )
    authorize(call, "iam:CreateInstanceProfile", profile.arn, context=request_tag_context(tags))
    with rt.store.transaction() as tx:
        tx.insert_instance_profile(profile)
        add_tags(tx, KIND, profile.profile_id, tags)
    rt.changed()
    return {"InstanceProfile": profile_shape(profile, [], tags)}


@operation("iam", "GetInstanceProfile")
def get_instance_profile(call: Call, p: Params) -> Result:
    profile = _existing(call, p["InstanceProfileName"], "iam:GetInstanceProfile")
    with call.runtime.store.transaction() as tx:
        roles = _roles_of(tx, profile)
        tags = tx.tags_of(KIND, profile.profile_id)
    return {"InstanceProfile": profile_shape(profile, roles, tags)}


@operation("iam", "ListInstanceProfiles")
def list_instance_profiles(call: Call, p: Params) -> Result:
    prefix = check_path(p.get("PathPrefix"))
    account = call.caller.account_id
    authorize(call, "iam:ListInstanceProfiles", arn.iam_arn(account, KIND, "/", ""))
    with call.runtime.store.transaction() as tx:
        profiles = tx.list_instance_profiles(account, prefix)
        profiles.sort(key=lambda ip: ip.name.lower())
        page, more = paginate(profiles, p, key=lambda ip: ip.name.lower())
        shapes = [profile_shape(ip, _roles_of(tx, ip)) for ip in page]
    return {"InstanceProfiles": shapes, **more}


@operation("iam", "DeleteInstanceProfile")
def delete_instance_profile(call: Call, p: Params) -> Result:
    profile = _existing(call, p["InstanceProfileName"], "iam:DeleteInstanceProfile")
    with call.runtime.store.transaction() as tx:
        _held(tx, profile)  # no role is added while this checks and deletes
        if tx.instance_profile_role_ids(profile.profile_id):
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        tx.delete_instance_profile(profile.profile_id)
    call.runtime.changed()
    return {}


def _role_for_profile(call: Call, name: str, *, passed: bool = False) -> Identity:
    """The role named in Add/RemoveRoleFromInstanceProfile (looked up after the profile's authorization).
    `passed`: putting a role in a profile lets every instance launched with it act as the role, so
    it needs iam:PassRole on the role too (asked before a missing role is told)."""
    account = call.caller.account_id
    with call.runtime.store.transaction() as tx:
        role = tx.get_identity("role", account, name)
    if passed:
        authorize(call, "iam:PassRole", role.arn if role else arn.iam_arn(account, "role", "/", name))
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role


@operation("iam", "AddRoleToInstanceProfile")
def add_role_to_instance_profile(call: Call, p: Params) -> Result:
    profile = _existing(call, p["InstanceProfileName"], "iam:AddRoleToInstanceProfile")
    role = _role_for_profile(call, p["RoleName"], passed=True)
    refuse_if_service_linked(role)
    with call.runtime.store.transaction() as tx:
        hold(tx, role)  # the role is not deleted meanwhile (DeleteRole locks it too)
        _held(tx, profile)  # the quota is checked and filled one writer at a time
        if len(tx.instance_profile_role_ids(profile.profile_id)) >= ROLES_PER_PROFILE:
            raise LimitExceeded(
                f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
            )
        tx.add_instance_profile_role(profile.profile_id, role.unique_id)
    call.runtime.changed()
    return {}


@operation("iam", "RemoveRoleFromInstanceProfile")
def remove_role_from_instance_profile(call: Call, p: Params) -> Result:
    profile = _existing(call, p["InstanceProfileName"], "iam:RemoveRoleFromInstanceProfile")
    role = _role_for_profile(call, p["RoleName"])
    refuse_if_service_linked(role)
    with call.runtime.store.transaction() as tx:
        _held(tx, profile)
        if role.unique_id not in tx.instance_profile_role_ids(profile.profile_id):
            raise NoSuchEntity(
                f"The role with name {role.name} cannot be found in instance profile {profile.name}."
            )
        tx.remove_instance_profile_role(profile.profile_id, role.unique_id)
    call.runtime.changed()
    return {}


@operation("iam", "ListInstanceProfilesForRole")
def list_instance_profiles_for_role(call: Call, p: Params) -> Result:
    role = existing(call, "role", p["RoleName"], "iam:ListInstanceProfilesForRole")
    with call.runtime.store.transaction() as tx:
        profiles = sorted(tx.instance_profiles_of_role(role.unique_id), key=lambda ip: ip.name.lower())
        page, more = paginate(profiles, p, key=lambda ip: ip.name.lower())
        shapes = [profile_shape(ip, _roles_of(tx, ip)) for ip in page]
    return {"InstanceProfiles": shapes, **more}


@operation("iam", "TagInstanceProfile")
def tag_instance_profile(call: Call, p: Params) -> Result:
    tags = tags_param(p)
    profile = _existing(call, p["InstanceProfileName"], "iam:TagInstanceProfile", request_tag_context(tags))
    with call.runtime.store.transaction() as tx:
        _held(tx, profile)  # the 50-tag quota is checked and filled one writer at a time
        add_tags(tx, KIND, profile.profile_id, tags)
    call.runtime.changed()
    return {}


@operation("iam", "UntagInstanceProfile")
def untag_instance_profile(call: Call, p: Params) -> Result:
    keys = list(p["TagKeys"])
    profile = _existing(call, p["InstanceProfileName"], "iam:UntagInstanceProfile", {"aws:TagKeys": keys})
    with call.runtime.store.transaction() as tx:
        remove_tag_keys(tx, KIND, profile.profile_id, keys)
    call.runtime.changed()
    return {}


@operation("iam", "ListInstanceProfileTags")
def list_instance_profile_tags(call: Call, p: Params) -> Result:
    profile = _existing(call, p["InstanceProfileName"], "iam:ListInstanceProfileTags")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of(KIND, profile.profile_id)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}
