"""IAM users: CreateUser, GetUser, UpdateUser, DeleteUser, ListUsers (their tags and
permissions boundaries are in identity_tags and permissions_boundaries)."""

from __future__ import annotations

from rolehop.core import arn
from rolehop.core.errors import DeleteConflict, ValidationError
from rolehop.core.ids import USER_PREFIX
from rolehop.services.iam.common import (
    check_path,
    create_identity,
    existing,
    hold,
    paginate,
    rename_identity,
)
from rolehop.services.iam.shapes import user_shape
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation

# PasswordLastUsed: the user's last successful console sign-in, from the audit trail ("the date and
# time when the user's password was last used to sign in", also after the password was removed). A
# successful ConsoleLogin is committed with its console session (signin.sign_in), never batched: no
# flush of the trail is needed before reading it.
CONSOLE_LOGIN = "ConsoleLogin"


def user_arn_for(call: Call, name: str, path: str = "/") -> str:
    return arn.iam_arn(call.caller.account_id, "user", path, name)


@operation("iam", "CreateUser")
def create_user(call: Call, p: Params) -> Result:
    user, tags = create_identity(call, "user", USER_PREFIX, p)
    return {"User": user_shape(user, tags)}


@operation("iam", "GetUser")
def get_user(call: Call, p: Params) -> Result:
    name = p.get("UserName") or call.caller.user_name
    if name is None:
        if call.caller.is_root:  # root calling GetUser without a name describes the account's root
            caller = call.caller
            return {
                "User": {
                    "Path": "/",
                    "UserName": "",
                    "UserId": caller.account_id,
                    "Arn": caller.arn,
                    "CreateDate": call.now,
                }
            }
        raise ValidationError("Must specify userName when calling with non-User credentials")
    user = existing(call, "user", name, "iam:GetUser")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of("user", user.unique_id)
        signed_in = tx.last_events_of([user.arn], CONSOLE_LOGIN).get(user.arn)
    return {"User": user_shape(user, tags, signed_in.at if signed_in else None)}


@operation("iam", "ListUsers")
def list_users(call: Call, p: Params) -> Result:
    prefix = check_path(p.get("PathPrefix"))
    authorize(call, "iam:ListUsers", user_arn_for(call, ""))
    with call.runtime.store.transaction() as tx:
        users = tx.list_identities("user", call.caller.account_id, prefix)
        page, more = paginate(users, p, key=lambda u: u.name.lower())
        signed_in = tx.last_events_of([u.arn for u in page], CONSOLE_LOGIN)
    shapes = [user_shape(u, None, signed_in[u.arn].at if u.arn in signed_in else None) for u in page]
    return {"Users": shapes, **more}


@operation("iam", "UpdateUser")
def update_user(call: Call, p: Params) -> Result:
    rename_identity(call, "user", p)
    return {}


@operation("iam", "DeleteUser")
def delete_user(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:DeleteUser")
    with call.runtime.store.transaction() as tx:
        hold(tx, user)  # nothing can be added to the user while this checks and deletes
        if tx.keys_of(user.account_id, user.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if tx.list_inline("user", user.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if tx.attached_policies("user", user.unique_id):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if tx.groups_of(user.unique_id):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if tx.get_login_profile(user.unique_id) is not None:
            raise DeleteConflict("Cannot delete entity, must delete login profile first.")
        if tx.mfa_devices_of(user.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete MFA device first.")
        if tx.signing_certificates_of(user.account_id, user.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete signing certificates first.")
        if tx.ssh_keys_of(user.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete SSH public keys first.")
        if tx.service_credentials_of(user.account_id, user.unique_id):
            raise DeleteConflict("Cannot delete entity, must delete service specific credentials first.")
        tx.delete_identity(user.unique_id)
    call.runtime.changed()
    return {}
