"""The account itself: aliases and the account summary."""

from __future__ import annotations

from dataclasses import replace

from rolehop.core.entities import Account
from rolehop.core.errors import EntityAlreadyExists, NoSuchEntity
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation


def _account(call: Call) -> Account:
    with call.runtime.store.transaction() as tx:
        account = tx.get_account(call.caller.account_id)
    if account is None:
        raise NoSuchEntity(f"The account {call.caller.account_id} cannot be found.")
    return account


@operation("iam", "CreateAccountAlias")
def create_account_alias(call: Call, p: Params) -> Result:
    authorize(call, "iam:CreateAccountAlias", "*")
    alias = p["AccountAlias"]
    account = _account(call)
    with call.runtime.store.transaction() as tx:
        holder = tx.account_by_alias(alias)
        if holder is not None and holder.account_id != account.account_id:
            raise EntityAlreadyExists(f"The account alias {alias} already exists.")
        tx.put_account(replace(account, alias=alias))
    call.runtime.changed()
    return {}


@operation("iam", "DeleteAccountAlias")
def delete_account_alias(call: Call, p: Params) -> Result:
    authorize(call, "iam:DeleteAccountAlias", "*")
    account = _account(call)
    if account.alias != p["AccountAlias"]:
        raise NoSuchEntity(f"The account alias {p['AccountAlias']} cannot be found.")
    with call.runtime.store.transaction() as tx:
        tx.put_account(replace(account, alias=None))
    call.runtime.changed()
    return {}


@operation("iam", "ListAccountAliases")
def list_account_aliases(call: Call, p: Params) -> Result:
    authorize(call, "iam:ListAccountAliases", "*")
    account = _account(call)
    return {"AccountAliases": [account.alias] if account.alias else [], "IsTruncated": False}


@operation("iam", "GetAccountSummary")
def get_account_summary(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetAccountSummary", "*")
    account = call.caller.account_id
    with call.runtime.store.transaction() as tx:
        users = tx.list_identities("user", account)
        groups = tx.list_identities("group", account)
        roles = tx.list_identities("role", account)
        policies = tx.list_policies(account)
        root_keys = tx.keys_of(account, None)
        devices = tx.list_mfa_devices(account)
    summary = {
        "Users": len(users),
        "UsersQuota": 5000,
        "Groups": len(groups),
        "GroupsQuota": 300,
        "Roles": len(roles),
        "RolesQuota": 1000,
        "Policies": len(policies),
        "PoliciesQuota": 1500,
        "PolicyVersionsInUseQuota": 10000,
        "AccessKeysPerUserQuota": 2,
        "GroupsPerUserQuota": 10,
        "AttachedPoliciesPerUserQuota": 10,
        "AttachedPoliciesPerGroupQuota": 10,
        "AttachedPoliciesPerRoleQuota": 10,
        "AccountAccessKeysPresent": 1 if root_keys else 0,
        "AccountMFAEnabled": 0,  # the root user has no MFA device in rolehop
        "MFADevices": len(devices),
        "MFADevicesInUse": sum(1 for d in devices if d.user_id),
    }
    return {"SummaryMap": summary}
