"""The organization's root: ListRoots, and the policy types enabled in it (EnablePolicyType,
DisablePolicyType). Every policy type of the model may be enabled, in an organization with all
features only; disabling a type detaches every policy of that type from every target, as AWS does.
`enable_policy_type_in` / `disable_policy_type_in` do the store's part, without authorization, for
callers that already hold the management account's rights (the organization file's apply)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rolehop.core.errors import (
    ConstraintViolationException,
    InvalidInputException,
    PolicyTypeAlreadyEnabledException,
    PolicyTypeNotAvailableForOrganizationException,
    PolicyTypeNotEnabledException,
    RootNotFoundException,
)
from rolehop.core.org_delegation import POLICY_TYPE_SERVICES
from rolehop.core.org_policy_syntax import POLICY_TYPES
from rolehop.core.organization import Organization
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.paging import page
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.organizations import OrgTx
from rolehop.services.ports.store import Tx

NOT_AVAILABLE = (
    "You can't use the specified policy type with the feature set currently enabled for this organization."
)
NOT_ENABLED = "The specified policy type isn't currently enabled in this root."


def root_shape(org: Organization) -> dict[str, Any]:
    return {
        "Id": org.root_id,
        "Arn": org.resource_arn("root", f"/{org.root_id}"),
        "Name": "Root",
        "PolicyTypes": [{"Type": t, "Status": "ENABLED"} for t in sorted(org.policy_types)],
    }


@operation("organizations", "ListRoots")
def list_roots(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:ListRoots")
    found, more = page([org], p, key=lambda o: o.root_id)  # one root: pages for the model's sake
    return {"Roots": [root_shape(o) for o in found], **more}


def check_policy_type(policy_type: str) -> None:
    if policy_type not in POLICY_TYPES:
        raise InvalidInputException(
            "You specified an invalid policy type string.", reason="INVALID_ENUM_POLICY_TYPE"
        )


def check_available(org: Organization) -> None:
    """Policies of every type need all features (consolidated billing has none)."""
    if org.feature_set != "ALL":
        raise PolicyTypeNotAvailableForOrganizationException(NOT_AVAILABLE)


def enable_policy_type_in(tx: Tx, org: Organization, policy_type: str) -> Organization:
    """The organization with `policy_type` enabled in its root (stored). A type that works through
    an AWS service (Security Hub, Inspector, GuardDuty) needs the service's trusted access first."""
    check_policy_type(policy_type)
    check_available(org)
    if policy_type in org.policy_types:
        raise PolicyTypeAlreadyEnabledException(
            "The specified policy type is already enabled in the specified root."
        )
    service = POLICY_TYPE_SERVICES.get(policy_type)
    if service and all(a.service_principal != service for a in tx.list_service_access()):
        raise ConstraintViolationException(
            f"You must enable trusted access for {service} before you enable the policy type {policy_type}.",
            reason="SERVICE_ACCESS_NOT_ENABLED",
        )
    enabled = replace(org, policy_types=org.policy_types | {policy_type})
    tx.put_organization(enabled)
    return enabled


def disable_policy_type_in(tx: OrgTx, org: Organization, policy_type: str) -> Organization:
    """The organization with `policy_type` disabled in its root, every policy of that type detached
    from every target (the policies themselves stay)."""
    check_policy_type(policy_type)
    if policy_type not in org.policy_types:
        raise PolicyTypeNotEnabledException(NOT_ENABLED)
    for policy in tx.list_org_policies(policy_type):
        for target in tx.org_policy_targets(policy.policy_id):
            tx.detach_org_policy(policy.policy_id, target)
    disabled = replace(org, policy_types=org.policy_types - {policy_type})
    tx.put_organization(disabled)
    return disabled


def _root_arn(p: Params) -> Callable[[Organization], str]:
    return lambda org: org.resource_arn("root", f"/{p['RootId']}")


def policy_type_context(policy_type: str) -> dict[str, str]:
    """The condition key Organizations sets on requests about one policy type."""
    return {"organizations:PolicyType": policy_type}


@operation("organizations", "EnablePolicyType")
def enable_policy_type(call: Call, p: Params) -> Result:
    management_only(
        call, "organizations:EnablePolicyType", _root_arn(p), context=policy_type_context(p["PolicyType"])
    )
    with call.runtime.store.transaction() as tx:
        org = _root(tx, p["RootId"])
        org = enable_policy_type_in(tx, org, p["PolicyType"])
    call.runtime.changed()
    return {"Root": root_shape(org)}


@operation("organizations", "DisablePolicyType")
def disable_policy_type(call: Call, p: Params) -> Result:
    management_only(
        call, "organizations:DisablePolicyType", _root_arn(p), context=policy_type_context(p["PolicyType"])
    )
    with call.runtime.store.transaction() as tx:
        org = _root(tx, p["RootId"])
        org = disable_policy_type_in(tx, org, p["PolicyType"])
    call.runtime.changed()
    return {"Root": root_shape(org)}


def _root(tx: OrgTx, root_id: str) -> Organization:
    """The organization (read again in this transaction) whose root is `root_id`."""
    org = tx.get_organization()
    if org is None or org.root_id != root_id:
        raise RootNotFoundException("We can't find a root with the RootId that you specified.")
    return org
