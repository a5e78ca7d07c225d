"""Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed.

Secrets are sealed with the key ring at rest and returned once, by CreateAccessKey.
"""

from __future__ import annotations

from typing import Any

from rolehop.core import arn
from rolehop.core.entities import AccessKey, Identity
from rolehop.core.errors import LimitExceeded, NoSuchEntity, ValidationError
from rolehop.core.ids import LONG_TERM_KEY_PREFIX, access_key_id, secret_access_key
from rolehop.services.iam.common import existing, hold, paginate
from rolehop.services.iam.shapes import access_key_shape
from rolehop.services.pipeline.authenticate import seal_secret
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx

KEYS_PER_USER = 2


def _owner(call: Call, p: Params, action: str) -> Identity | None:
    """The user named in the request, else the caller itself (None: the account's root)."""
    name = p.get("UserName") or call.caller.user_name
    if name is None and call.caller.is_root:
        authorize(call, action, call.caller.arn)
        return None
    if name is None:
        raise ValidationError("Must specify userName when calling with non-User credentials")
    return existing(call, "user", name, action)


def _hold_owner(tx: Tx, owner: Identity | None, account_id: str) -> None:
    """Locks the key's owner (the account's root: the account): concurrent creates then count each
    other's keys, and a DeleteUser either sees the new key or comes first."""
    if owner is None:
        tx.lock_account(account_id)
    else:
        hold(tx, owner)


def _key_of(call: Call, owner: Identity | None, key_id: str) -> AccessKey:
    with call.runtime.store.transaction() as tx:
        key = tx.get_key(key_id)
    if (
        key is None
        or key.account_id != call.caller.account_id
        or key.user_id != (owner.unique_id if owner else None)
    ):
        raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
    return key


@operation("iam", "CreateAccessKey")
def create_access_key(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:CreateAccessKey")
    rt = call.runtime
    key_id = access_key_id(LONG_TERM_KEY_PREFIX, call.caller.account_id, rt.random(5))
    secret = secret_access_key(rt.random(30))
    key = AccessKey(
        key_id,
        call.caller.account_id,
        owner.unique_id if owner else None,
        seal_secret(rt, key_id, secret),
        "Active",
        call.now,
    )
    with rt.store.transaction() as tx:
        _hold_owner(tx, owner, key.account_id)
        if len(tx.keys_of(key.account_id, key.user_id)) >= KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}")
        tx.insert_key(key)
    rt.changed()
    shape = access_key_shape(key, owner.name if owner else None)
    return {"AccessKey": {**shape, "SecretAccessKey": secret}}


@operation("iam", "ListAccessKeys")
def list_access_keys(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:ListAccessKeys")
    with call.runtime.store.transaction() as tx:
        keys = tx.keys_of(call.caller.account_id, owner.unique_id if owner else None)
    page, more = paginate(keys, p, key=lambda k: k.access_key_id)
    name = owner.name if owner else None
    return {"AccessKeyMetadata": [access_key_shape(k, name) for k in page], **more}


@operation("iam", "UpdateAccessKey")
def update_access_key(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:UpdateAccessKey")
    key = _key_of(call, owner, p["AccessKeyId"])
    with call.runtime.store.transaction() as tx:
        tx.set_key_status(key.access_key_id, p["Status"])
    call.runtime.changed()
    return {}


@operation("iam", "DeleteAccessKey")
def delete_access_key(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:DeleteAccessKey")
    key = _key_of(call, owner, p["AccessKeyId"])
    with call.runtime.store.transaction() as tx:
        tx.delete_key(key.access_key_id)
    call.runtime.changed()
    return {}


@operation("iam", "GetAccessKeyLastUsed")
def get_access_key_last_used(call: Call, p: Params) -> Result:
    """From the audit trail: the key's newest request, refused ones included ("the last request made
    with that key", as AWS says), within the trail's retention."""
    rt = call.runtime
    rt.trail.flush()  # this node's records still waiting for their batch
    with rt.store.transaction() as tx:
        key = tx.get_key(p["AccessKeyId"])
        owner = tx.get_identity_by_id(key.user_id) if key and key.user_id else None
        used = tx.last_attempts_by_key([key.access_key_id]).get(key.access_key_id) if key else None
    if key is None or key.account_id != call.caller.account_id:
        # IAM answers AccessDenied rather than revealing whether a key exists elsewhere
        authorize(call, "iam:GetAccessKeyLastUsed", arn.iam_arn(call.caller.account_id, "user", "/", "*"))
        raise NoSuchEntity(f"The Access Key with id {p['AccessKeyId']} cannot be found.")
    authorize(call, "iam:GetAccessKeyLastUsed", owner.arn if owner else arn.root_arn(key.account_id))
    last: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}  # IAM's answer for a key never used
    if used is not None:
        # the service as IAM names it: the event source's prefix (sts.amazonaws.com -> sts)
        last = {
            "LastUsedDate": used.at,
            "ServiceName": used.service.removesuffix(".amazonaws.com"),
            "Region": used.region,
        }
    result: dict[str, Any] = {"AccessKeyLastUsed": last}
    if owner:
        result["UserName"] = owner.name
    return result
