"""The account itself: aliases and the account summary.

GetAccountSummary answers every key of botocore's summaryKeyType: counts from the store, quotas as
rolehop enforces them (AWS's defaults). PolicyVersionsInUse counts the versions of the account's
customer-managed policies plus each AWS-managed policy attached in the account (docs/decisions.md).
Families this tree does not hold (identity providers) count 0.
"""

from __future__ import annotations

from dataclasses import replace

from rolehop.core.entities import Account
from rolehop.core.errors import EntityAlreadyExists, NoSuchEntity
from rolehop.core.policy.validate import (
    GROUP_INLINE_MAX,
    MANAGED_POLICY_MAX,
    ROLE_INLINE_MAX,
    TRUST_POLICY_MAX,
    USER_INLINE_MAX,
)
from rolehop.services.iam.access_keys import KEYS_PER_USER
from rolehop.services.iam.policies import MAX_VERSIONS
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
        instance_profiles = tx.list_instance_profiles(account)
        server_certificates = tx.list_server_certificates(account)
        root_certificates = tx.signing_certificates_of(account, None)
        policies = tx.list_policies(account)
        root_keys = tx.keys_of(account, None)
        devices = tx.list_mfa_devices(account)
        versions_in_use = sum(len(tx.list_versions(x.policy_id)) for x in policies) + sum(
            1 for x in tx.list_policies(None, counted_in=account) if x.attachment_count
        )
    summary = {
        "Users": len(users),
        "UsersQuota": 5000,
        "Groups": len(groups),
        "GroupsQuota": 300,
        "Roles": len(roles),
        "RolesQuota": 1000,
        "Policies": len(policies),
        "PoliciesQuota": 1500,
        "PolicyVersionsInUse": versions_in_use,
        "PolicyVersionsInUseQuota": 10000,
        "PolicySizeQuota": MANAGED_POLICY_MAX,
        "VersionsPerPolicyQuota": MAX_VERSIONS,
        "UserPolicySizeQuota": USER_INLINE_MAX,
        "GroupPolicySizeQuota": GROUP_INLINE_MAX,
        "RolePolicySizeQuota": ROLE_INLINE_MAX,
        "AssumeRolePolicySizeQuota": TRUST_POLICY_MAX,
        "ServerCertificates": len(server_certificates),
        "ServerCertificatesQuota": 20,
        "SigningCertificatesPerUserQuota": 2,
        "AccountSigningCertificatesPresent": int(bool(root_certificates)),
        "AccountPasswordPresent": 0,  # the root user signs in with rolehop's keys, has no password
        "InstanceProfiles": len(instance_profiles),
        "InstanceProfilesQuota": 1000,
        "Providers": 0,
        "GlobalEndpointTokenVersion": 1,
        "AccessKeysPerUserQuota": KEYS_PER_USER,
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
