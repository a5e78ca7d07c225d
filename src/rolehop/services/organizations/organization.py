"""The organization itself: CreateOrganization, DescribeOrganization, DeleteOrganization and
EnableAllFeatures. rolehop serves at most one organization; the server's account (which holds its
people) is the one that may create it and manages it. A fresh store has none: until
CreateOrganization (or `rolehop apply` of an organization file), Organizations answers
AWSOrganizationsNotInUseException, as AWS does for a standalone account. DeleteOrganization, once no
member account remains, takes its OUs, policies, handshakes and grants with it; the next
CreateOrganization makes a new one, with new IDs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolehop.core.errors import (
    AccessDeniedForDependencyException,
    AlreadyInOrganizationException,
    ConstraintViolationException,
    HandshakeConstraintViolationException,
    OrganizationNotEmptyException,
)
from rolehop.core.handshake_rules import is_open
from rolehop.core.org_policy_syntax import POLICY_TYPES
from rolehop.core.organization import (
    SCP,
    HandshakeParty,
    Organization,
    new_organization_id,
    new_root_id,
)
from rolehop.services.organizations.accounts import members_of
from rolehop.services.organizations.common import management_only, organization_of_caller
from rolehop.services.organizations.handshakes import handshake_shape, new_handshake, organization_resource
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.store import Tx

# "ALL_FEATURES_MIGRATION_ORGANIZATION_SIZE_LIMIT_EXCEEDED: Your organization has more than 5000
# accounts" (ConstraintViolationException): the standard migration's bound
MIGRATION_SIZE_LIMIT = 5000


def organization_shape(org: Organization, management_email: str) -> dict[str, Any]:
    return {
        "Id": org.org_id,
        "Arn": org.arn,
        "FeatureSet": org.feature_set,
        "MasterAccountArn": org.resource_arn("account", f"/{org.management_account_id}"),
        "MasterAccountId": org.management_account_id,
        "MasterAccountEmail": management_email,
        # deprecated in AWS's model, which says to read the root's PolicyTypes; AWS still answers it
        "AvailablePolicyTypes": [{"Type": SCP, "Status": "ENABLED"}] if SCP in org.policy_types else [],
    }


def create_organization_in(rt: Runtime, tx: Tx, feature_set: str) -> Organization:
    """The organization, managed by the server's account, which joins it; AWS enables SCPs in the
    root of an organization created with all features (CreateOrganization's documentation)."""
    mgmt = rt.settings.management_account_id
    now = rt.clock()
    org = Organization(
        new_organization_id(rt.random(10)),
        new_root_id(rt.random(4)),
        mgmt,
        feature_set,
        now,
        frozenset({SCP}) if feature_set == "ALL" else frozenset(),
    )
    tx.put_organization(org)
    account = tx.get_account(mgmt)
    if account is not None:
        tx.put_account(replace(account, joined_method="INVITED", joined_at=now))
        tx.set_account_parent(mgmt, org.root_id)  # not where an earlier organization had put it
    return org


def delete_organization_in(tx: Tx, org: Organization) -> None:
    """Everything the organization held goes with it; its management account is standalone again."""
    for ou in tx.list_ous():
        tx.delete_ou(ou.ou_id)
    for policy_type in POLICY_TYPES:
        for policy in tx.list_org_policies(policy_type):
            for target in tx.org_policy_targets(policy.policy_id):
                tx.detach_org_policy(policy.policy_id, target)
            tx.delete_org_policy(policy.policy_id)
    tx.delete_handshakes()
    tx.delete_create_account_requests()
    tx.delete_organization_grants()
    tx.delete_organization()
    management = tx.get_account(org.management_account_id)
    if management is not None:
        tx.put_account(replace(management, joined_method=None, joined_at=None))


@operation("organizations", "CreateOrganization")
def create_organization(call: Call, p: Params) -> Result:
    authorize(call, "organizations:CreateOrganization", "*")
    rt = call.runtime
    with rt.store.transaction() as tx:
        account = tx.get_account(call.caller.account_id)
        if account is not None and account.in_organization:
            raise AlreadyInOrganizationException("The AWS account is already a member of an organization.")
        if call.caller.account_id != rt.settings.management_account_id or tx.get_organization():
            # rolehop serves one organization, managed by the server's account (docs/decisions.md)
            raise AccessDeniedForDependencyException(
                "This rolehop serves one organization, managed by account "
                f"{rt.settings.management_account_id}; this account can join it by invitation.",
                reason="ACCESS_DENIED_DURING_CREATE_SERVICE_LINKED_ROLE",
            )
        org = create_organization_in(rt, tx, p.get("FeatureSet") or "ALL")
        email = account.email if account else ""
    rt.changed()
    return {"Organization": organization_shape(org, email)}


@operation("organizations", "DescribeOrganization")
def describe_organization(call: Call, p: Params) -> Result:
    authorize(call, "organizations:DescribeOrganization", "*")
    with call.runtime.store.transaction() as tx:
        org = organization_of_caller(call, tx)
        management = tx.get_account(org.management_account_id)
    return {"Organization": organization_shape(org, management.email if management else "")}


@operation("organizations", "DeleteOrganization")
def delete_organization(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:DeleteOrganization")
    with call.runtime.store.transaction() as tx:
        tx.lock_account(org.management_account_id)  # no member joins while it goes
        if members_of(tx, org):
            raise OrganizationNotEmptyException(
                "The organization isn't empty. To delete an organization, you must first remove all "
                "accounts except the management account.",
            )
        delete_organization_in(tx, org)
    call.runtime.changed()
    return {}


@operation("organizations", "EnableAllFeatures")
def enable_all_features(call: Call, p: Params) -> Result:
    """Starts the move to all features: the ENABLE_ALL_FEATURES handshake, which the management
    account accepts to finalize, and an APPROVE_ALL_FEATURES to every invited member (created
    accounts' approval is inferred: Organizations API reference, Handshake)."""
    org = management_only(call, "organizations:EnableAllFeatures")
    rt, now = call.runtime, call.now
    with rt.store.transaction() as tx:
        tx.lock_account(org.management_account_id)
        if org.feature_set == "ALL":
            raise HandshakeConstraintViolationException(
                "The handshake request is invalid because the organization has already enabled all features.",
                reason="ORGANIZATION_ALREADY_HAS_ALL_FEATURES",
            )
        if any(h.action == "ENABLE_ALL_FEATURES" and is_open(h, now) for h in tx.list_handshakes()):
            raise HandshakeConstraintViolationException(
                "The handshake request is invalid because the organization has already started the "
                "process to enable all features.",
                reason="ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION",
            )
        members = members_of(tx, org)
        if len(members) + 1 > MIGRATION_SIZE_LIMIT:
            raise ConstraintViolationException(
                "Your organization has more than 5000 accounts: use the assisted migration process.",
                reason="ALL_FEATURES_MIGRATION_ORGANIZATION_SIZE_LIMIT_EXCEEDED",
            )
        invited = [a for a in members if a.joined_method == "INVITED"]
        organization = {"Type": "ORGANIZATION", "Value": org.org_id}
        parent = new_handshake(
            rt,
            org,
            "ENABLE_ALL_FEATURES",
            HandshakeParty(org.management_account_id, "ACCOUNT"),
            [organization],
            now,
            state="REQUESTED" if invited else "OPEN",
        )
        tx.put_handshake(parent)
        management = tx.get_account(org.management_account_id)
        for account in invited:
            resources = [
                organization_resource(org, management),
                {"Type": "PARENT_HANDSHAKE", "Value": parent.handshake_id},
            ]
            child = new_handshake(
                rt,
                org,
                "APPROVE_ALL_FEATURES",
                HandshakeParty(account.account_id, "ACCOUNT"),
                resources,
                now,
                parent=parent.handshake_id,
            )
            tx.put_handshake(child)
    rt.changed()
    return {"Handshake": handshake_shape(org, parent, now)}
