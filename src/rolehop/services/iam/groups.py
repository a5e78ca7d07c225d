"""IAM groups and membership: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups,
AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser."""

from __future__ import annotations

from rolehop.core import arn
from rolehop.core.entities import Identity
from rolehop.core.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from rolehop.core.ids import GROUP_PREFIX, unique_id
from rolehop.services.iam.common import (
    check_new_path,
    check_path,
    existing,
    hold,
    paginate,
    rename_identity,
    require,
)
from rolehop.services.iam.shapes import group_shape, user_shape
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation

GROUPS_PER_USER = 10


@operation("iam", "CreateGroup")
def create_group(call: Call, p: Params) -> Result:
    path = check_new_path(p.get("Path"))
    name = p["GroupName"]
    authorize(call, "iam:CreateGroup", arn.iam_arn(call.caller.account_id, "group", path, name))
    rt = call.runtime
    group = Identity(
        "group", unique_id(GROUP_PREFIX, rt.random(11)), call.caller.account_id, name, path, call.now
    )
    with rt.store.transaction() as tx:
        tx.insert_identity(group)
    rt.changed()
    return {"Group": group_shape(group)}


@operation("iam", "GetGroup")
def get_group(call: Call, p: Params) -> Result:
    group = existing(call, "group", p["GroupName"], "iam:GetGroup")
    with call.runtime.store.transaction() as tx:
        members = tx.group_members(group.unique_id)
    page, more = paginate(members, p, key=lambda u: u.name.lower())
    return {"Group": group_shape(group), "Users": [user_shape(u) for u in page], **more}


@operation("iam", "ListGroups")
def list_groups(call: Call, p: Params) -> Result:
    prefix = check_path(p.get("PathPrefix"))
    authorize(call, "iam:ListGroups", arn.iam_arn(call.caller.account_id, "group", "/", ""))
    with call.runtime.store.transaction() as tx:
        groups = tx.list_identities("group", call.caller.account_id, prefix)
    page, more = paginate(groups, p, key=lambda g: g.name.lower())
    return {"Groups": [group_shape(g) for g in page], **more}


@operation("iam", "UpdateGroup")
def update_group(call: Call, p: Params) -> Result:
    rename_identity(call, "group", p)
    return {}


@operation("iam", "DeleteGroup")
def delete_group(call: Call, p: Params) -> Result:
    group = existing(call, "group", p["GroupName"], "iam:DeleteGroup")
    with call.runtime.store.transaction() as tx:
        hold(tx, group)  # nobody joins the group while this checks and deletes
        if tx.group_members(group.unique_id):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if tx.list_inline("group", group.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if tx.attached_policies("group", group.unique_id):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        tx.delete_identity(group.unique_id)
    call.runtime.changed()
    return {}


@operation("iam", "AddUserToGroup")
def add_user_to_group(call: Call, p: Params) -> Result:
    group = existing(call, "group", p["GroupName"], "iam:AddUserToGroup")
    with call.runtime.store.transaction() as tx:
        hold(tx, group)  # the group first, then the user: the lock order (see Tx)
        user = hold(tx, require(tx, "user", call.caller.account_id, p["UserName"]))
        groups = tx.groups_of(user.unique_id)
        if group.unique_id not in {g.unique_id for g in groups} and len(groups) >= GROUPS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
        tx.add_member(group.unique_id, user.unique_id)
    call.runtime.changed()
    return {}


@operation("iam", "RemoveUserFromGroup")
def remove_user_from_group(call: Call, p: Params) -> Result:
    group = existing(call, "group", p["GroupName"], "iam:RemoveUserFromGroup")
    with call.runtime.store.transaction() as tx:
        hold(tx, group)  # of two concurrent removals, the second finds no member to remove
        user = require(tx, "user", call.caller.account_id, p["UserName"])
        if group.unique_id not in {g.unique_id for g in tx.groups_of(user.unique_id)}:
            raise NoSuchEntity(f"The user with name {user.name} cannot be found in group {group.name}.")
        tx.remove_member(group.unique_id, user.unique_id)
    call.runtime.changed()
    return {}


@operation("iam", "ListGroupsForUser")
def list_groups_for_user(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:ListGroupsForUser")
    with call.runtime.store.transaction() as tx:
        groups = tx.groups_of(user.unique_id)
    page, more = paginate(groups, p, key=lambda g: g.name.lower())
    return {"Groups": [group_shape(g) for g in page], **more}
