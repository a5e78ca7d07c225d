"""Trusted access for AWS services (EnableAWSServiceAccess, DisableAWSServiceAccess,
ListAWSServiceAccessForOrganization). Trusted access needs all features (ConstraintViolation
ORGANIZATION_NOT_IN_ALL_FEATURES_MODE) and a service principal Organizations integrates with
(core.org_delegation.SERVICE_PRINCIPALS, else InvalidInputException UNRECOGNIZED_SERVICE_PRINCIPAL).
Enabling an enabled service or disabling a disabled one changes nothing. Disabling it deregisters
the service's delegated administrators (which need trusted access: delegation.py) and is refused
while a policy type that works through the service is enabled (POLICY_TYPE_ENABLED_FOR_THIS_SERVICE).

`enable_service_access_in` / `disable_service_access_in` are the store-level work, without
authorization, for the organization file's `apply`.
"""

from __future__ import annotations

from datetime import datetime

from rolehop.core.errors import ConstraintViolationException
from rolehop.core.org_delegation import POLICY_TYPE_SERVICES, check_service_principal
from rolehop.core.organization import Organization, ServiceAccess
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.paging import page
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx


def require_all_features(org: Organization) -> None:
    if org.feature_set != "ALL":
        raise ConstraintViolationException(
            "This operation requires the organization to have all features enabled.",
            reason="ORGANIZATION_NOT_IN_ALL_FEATURES_MODE",
        )


def enable_service_access_in(tx: Tx, org: Organization, service_principal: str, now: datetime) -> None:
    check_service_principal(service_principal)
    require_all_features(org)
    if all(a.service_principal != service_principal for a in tx.list_service_access()):
        tx.put_service_access(ServiceAccess(service_principal, now))


def disable_service_access_in(tx: Tx, org: Organization, service_principal: str) -> None:
    check_service_principal(service_principal)
    for policy_type in sorted(org.policy_types):
        if POLICY_TYPE_SERVICES.get(policy_type) == service_principal:
            raise ConstraintViolationException(
                f"You must disable the policy type {policy_type} before you disable service access for "
                f"{service_principal}.",
                reason="POLICY_TYPE_ENABLED_FOR_THIS_SERVICE",
            )
    for delegated in tx.list_delegated_administrators():
        if delegated.service_principal == service_principal:
            tx.delete_delegated_administrator(delegated.account_id, service_principal)
    tx.delete_service_access(service_principal)


def _context(p: Params) -> dict[str, str]:
    return {"organizations:ServicePrincipal": p["ServicePrincipal"]}


@operation("organizations", "EnableAWSServiceAccess")
def enable_aws_service_access(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:EnableAWSServiceAccess", context=_context(p))
    with call.runtime.store.transaction() as tx:
        enable_service_access_in(tx, org, p["ServicePrincipal"], call.now)
    call.runtime.changed()
    return {}


@operation("organizations", "DisableAWSServiceAccess")
def disable_aws_service_access(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:DisableAWSServiceAccess", context=_context(p))
    with call.runtime.store.transaction() as tx:
        disable_service_access_in(tx, org, p["ServicePrincipal"])
    call.runtime.changed()
    return {}


@operation("organizations", "ListAWSServiceAccessForOrganization")
def list_aws_service_access_for_organization(call: Call, p: Params) -> Result:
    management_only(call, "organizations:ListAWSServiceAccessForOrganization")
    with call.runtime.store.transaction() as tx:
        enabled = tx.list_service_access()
    found, more = page(enabled, p, lambda a: a.service_principal)
    return {
        "EnabledServicePrincipals": [
            {"ServicePrincipal": a.service_principal, "DateEnabled": a.enabled_at} for a in found
        ],
        **more,
    }
