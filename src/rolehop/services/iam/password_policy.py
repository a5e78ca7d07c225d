"""The account password policy: UpdateAccountPasswordPolicy, GetAccountPasswordPolicy,
DeleteAccountPasswordPolicy. The checks themselves are core.passwords'."""

from __future__ import annotations

from typing import Any

from rolehop.core.errors import NoSuchEntity
from rolehop.core.passwords import DEFAULT_MINIMUM_LENGTH, PasswordPolicy
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation


def policy_shape(policy: PasswordPolicy) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "MinimumPasswordLength": policy.minimum_password_length,
        "RequireSymbols": policy.require_symbols,
        "RequireNumbers": policy.require_numbers,
        "RequireUppercaseCharacters": policy.require_uppercase_characters,
        "RequireLowercaseCharacters": policy.require_lowercase_characters,
        "AllowUsersToChangePassword": policy.allow_users_to_change_password,
        "ExpirePasswords": policy.expire_passwords,
    }
    if policy.max_password_age:
        shape["MaxPasswordAge"] = policy.max_password_age
        shape["HardExpiry"] = policy.hard_expiry
    if policy.password_reuse_prevention:
        shape["PasswordReusePrevention"] = policy.password_reuse_prevention
    return shape


def _not_found(account_id: str) -> NoSuchEntity:
    return NoSuchEntity(f"The Password Policy with domain name {account_id} cannot be found.")


@operation("iam", "UpdateAccountPasswordPolicy")
def update_account_password_policy(call: Call, p: Params) -> Result:
    authorize(call, "iam:UpdateAccountPasswordPolicy", "*")
    # IAM: a parameter left out returns to its default value (the botocore model bounds the numbers)
    policy = PasswordPolicy(
        minimum_password_length=p.get("MinimumPasswordLength") or DEFAULT_MINIMUM_LENGTH,
        require_symbols=bool(p.get("RequireSymbols")),
        require_numbers=bool(p.get("RequireNumbers")),
        require_uppercase_characters=bool(p.get("RequireUppercaseCharacters")),
        require_lowercase_characters=bool(p.get("RequireLowercaseCharacters")),
        allow_users_to_change_password=bool(p.get("AllowUsersToChangePassword")),
        max_password_age=p.get("MaxPasswordAge") or 0,
        password_reuse_prevention=p.get("PasswordReusePrevention") or 0,
        hard_expiry=bool(p.get("HardExpiry")),
    )
    with call.runtime.store.transaction() as tx:
        tx.put_password_policy(call.caller.account_id, policy)
    call.runtime.changed()
    return {}


@operation("iam", "GetAccountPasswordPolicy")
def get_account_password_policy(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetAccountPasswordPolicy", "*")
    with call.runtime.store.transaction() as tx:
        policy = tx.get_password_policy(call.caller.account_id)
    if policy is None:
        raise _not_found(call.caller.account_id)
    return {"PasswordPolicy": policy_shape(policy)}


@operation("iam", "DeleteAccountPasswordPolicy")
def delete_account_password_policy(call: Call, p: Params) -> Result:
    authorize(call, "iam:DeleteAccountPasswordPolicy", "*")
    with call.runtime.store.transaction() as tx:
        if tx.get_password_policy(call.caller.account_id) is None:
            raise _not_found(call.caller.account_id)
        tx.delete_password_policy(call.caller.account_id)
    call.runtime.changed()
    return {}
