"""Delegated administrators for AWS services (RegisterDelegatedAdministrator,
DeregisterDelegatedAdministrator, ListDelegatedAdministrators, ListDelegatedServicesForAccount).

A delegated administrator is a member account (never the management account, nor a closed one)
registered for a service the organization trusts (EnableAWSServiceAccess first:
ConstraintViolation SERVICE_ACCESS_NOT_ENABLED), up to the service's number of them
(core.org_delegation.SERVICE_PRINCIPALS: DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE for a
service that takes one, MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED beyond a larger
number). Being one lets the account read the organization (common.management_only).

`register_delegated_administrator_in` / `deregister_delegated_administrator_in` are the store-level
work, without authorization, for the organization file's `apply`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rolehop.core.entities import Account
from rolehop.core.errors import (
    AccountAlreadyRegisteredException,
    AccountNotFoundException,
    AccountNotRegisteredException,
    ConstraintViolationException,
)
from rolehop.core.org_delegation import check_service_principal
from rolehop.core.organization import DelegatedAdministrator, Organization
from rolehop.services.organizations.accounts import account_shape
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.paging import page
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx

NO_ACCOUNT = "You specified an account that doesn't exist."
NOT_REGISTERED = "The provided account is not a registered delegated administrator for your organization."


def _member(tx: Tx, account_id: str) -> Account:
    account = tx.get_account(account_id)
    if account is None or not account.in_organization:
        raise AccountNotFoundException(NO_ACCOUNT)
    return account


def register_delegated_administrator_in(
    tx: Tx, org: Organization, account_id: str, service_principal: str, now: datetime
) -> None:
    limit = check_service_principal(service_principal, delegation=True)
    account = _member(tx, account_id)
    if account_id == org.management_account_id:
        raise ConstraintViolationException(
            "You cannot register management account/yourself as delegated administrator "
            "for your organization.",
            reason="CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
        )
    if account.status != "ACTIVE" or account.closed_at is not None:
        raise ConstraintViolationException(
            "You cannot register a suspended account as a delegated administrator.",
            reason="CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR",
        )
    if all(a.service_principal != service_principal for a in tx.list_service_access()):
        raise ConstraintViolationException(
            f"You must enable trusted access for {service_principal} (EnableAWSServiceAccess) before you "
            "register a delegated administrator for it.",
            reason="SERVICE_ACCESS_NOT_ENABLED",
        )
    registered = [d for d in tx.list_delegated_administrators() if d.service_principal == service_principal]
    if any(d.account_id == account_id for d in registered):
        raise AccountAlreadyRegisteredException(
            "The provided account is already a delegated administrator for your organization."
        )
    if len(registered) >= limit:
        if limit == 1:
            raise ConstraintViolationException(
                f"{service_principal} already has a delegated administrator. Deregister it first.",
                reason="DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE",
            )
        raise ConstraintViolationException(
            f"{service_principal} allows at most {limit} delegated administrators.",
            reason="MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED",
        )
    tx.put_delegated_administrator(DelegatedAdministrator(account_id, service_principal, now))


def deregister_delegated_administrator_in(tx: Tx, account_id: str, service_principal: str) -> None:
    check_service_principal(service_principal, delegation=True)
    _member(tx, account_id)
    registered = tx.list_delegated_administrators()
    if not any(d.account_id == account_id and d.service_principal == service_principal for d in registered):
        raise AccountNotRegisteredException(NOT_REGISTERED)
    tx.delete_delegated_administrator(account_id, service_principal)


def _account_arn(p: Params) -> Callable[[Organization], str]:
    account_id = p["AccountId"]

    def arn(org: Organization) -> str:
        return org.resource_arn("account", f"/{account_id}")

    return arn


@operation("organizations", "RegisterDelegatedAdministrator")
def register_delegated_administrator(call: Call, p: Params) -> Result:
    org = management_only(
        call,
        "organizations:RegisterDelegatedAdministrator",
        _account_arn(p),
        context={"organizations:ServicePrincipal": p["ServicePrincipal"]},
    )
    with call.runtime.store.transaction() as tx:
        register_delegated_administrator_in(tx, org, p["AccountId"], p["ServicePrincipal"], call.now)
    call.runtime.changed()
    return {}


@operation("organizations", "DeregisterDelegatedAdministrator")
def deregister_delegated_administrator(call: Call, p: Params) -> Result:
    management_only(
        call,
        "organizations:DeregisterDelegatedAdministrator",
        _account_arn(p),
        context={"organizations:ServicePrincipal": p["ServicePrincipal"]},
    )
    with call.runtime.store.transaction() as tx:
        deregister_delegated_administrator_in(tx, p["AccountId"], p["ServicePrincipal"])
    call.runtime.changed()
    return {}


@operation("organizations", "ListDelegatedAdministrators")
def list_delegated_administrators(call: Call, p: Params) -> Result:
    service = p.get("ServicePrincipal")
    context = {"organizations:ServicePrincipal": service} if service else None
    org = management_only(call, "organizations:ListDelegatedAdministrators", context=context)
    if service:
        check_service_principal(service)
    with call.runtime.store.transaction() as tx:
        since: dict[str, datetime] = {}
        for d in tx.list_delegated_administrators():
            if service is None or d.service_principal == service:
                since[d.account_id] = min(d.delegated_at, since.get(d.account_id, d.delegated_at))
        accounts = [a for a in map(tx.get_account, since) if a is not None and a.in_organization]
    found, more = page(accounts, p, lambda a: a.account_id)
    return {
        "DelegatedAdministrators": [
            {**account_shape(org, a, call.now), "DelegationEnabledDate": since[a.account_id]} for a in found
        ],
        **more,
    }


@operation("organizations", "ListDelegatedServicesForAccount")
def list_delegated_services_for_account(call: Call, p: Params) -> Result:
    account_id = p["AccountId"]
    management_only(call, "organizations:ListDelegatedServicesForAccount", _account_arn(p))
    with call.runtime.store.transaction() as tx:
        _member(tx, account_id)
        services = [d for d in tx.list_delegated_administrators() if d.account_id == account_id]
    if not services:
        raise AccountNotRegisteredException(NOT_REGISTERED)
    found, more = page(services, p, lambda d: d.service_principal)
    return {
        "DelegatedServices": [
            {"ServicePrincipal": d.service_principal, "DelegationEnabledDate": d.delegated_at} for d in found
        ],
        **more,
    }
