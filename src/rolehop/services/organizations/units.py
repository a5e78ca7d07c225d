"""Organizations' structure: organizational units under the root, and the accounts in them
(Create/Describe/Update/DeleteOrganizationalUnit, ListOrganizationalUnitsForParent, ListChildren,
ListParents, ListAccountsForParent, MoveAccount). Which control policies bind an account follows
from this tree (pipeline.control_policies).

Sibling OUs have distinct names, on create and on rename (DuplicateOrganizationalUnitException);
every List pages (paging.py); each operation is authorized on the ARN of the root, OU or account it
names, so a delegation policy can grant it for some of them only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rolehop.core.errors import (
    AccountNotFoundException,
    ChildNotFoundException,
    ClientError,
    DestinationParentNotFoundException,
    DuplicateAccountException,
    DuplicateOrganizationalUnitException,
    OrganizationalUnitNotEmptyException,
    OrganizationalUnitNotFoundException,
    ParentNotFoundException,
    SourceParentNotFoundException,
)
from rolehop.core.organization import Organization, OrgUnit, new_ou_id
from rolehop.services.organizations.accounts import account_shape
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.paging import page
from rolehop.services.organizations.tags import put_tags_from_params, tag_context
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.organizations import OrgTx


def _ou_shape(org: Organization, ou: OrgUnit) -> dict[str, Any]:
    return {"Id": ou.ou_id, "Arn": org.resource_arn("ou", f"/{ou.ou_id}"), "Name": ou.name}


def _arn_of(target_id: str) -> Callable[[Organization], str]:
    """How to make the ARN of a root, OU or account from its ID (to authorize on)."""

    def arn(org: Organization) -> str:
        kind = "root" if target_id.startswith("r-") else "ou" if target_id.startswith("ou-") else "account"
        return org.resource_arn(kind, f"/{target_id}")

    return arn


def _check_parent(
    tx: OrgTx, org: Organization, parent_id: str, missing: type[ClientError] = ParentNotFoundException
) -> None:
    if parent_id != org.root_id and not (parent_id.startswith("ou-") and tx.get_ou(parent_id)):
        raise missing("We can't find a root or OU with the ParentId that you specified.")


def _refuse_duplicate(tx: OrgTx, parent_id: str, name: str, ou_id: str | None = None) -> None:
    if any(o.name == name and o.ou_id != ou_id for o in tx.list_ous(parent_id)):
        raise DuplicateOrganizationalUnitException("An OU with the same name already exists.")


@operation("organizations", "CreateOrganizationalUnit")
def create_organizational_unit(call: Call, p: Params) -> Result:
    tags = p.get("Tags") or []
    org = management_only(
        call, "organizations:CreateOrganizationalUnit", _arn_of(p["ParentId"]), context=tag_context(tags)
    )
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, org, p["ParentId"])
        _refuse_duplicate(tx, p["ParentId"], p["Name"])
        ou = OrgUnit(new_ou_id(org.root_id, call.runtime.random(8)), p["ParentId"], p["Name"])
        tx.put_ou(ou)
        put_tags_from_params(tx, ou.ou_id, tags)
    call.runtime.changed()
    return {"OrganizationalUnit": _ou_shape(org, ou)}


def _ou(tx: Any, ou_id: str) -> OrgUnit:
    ou = tx.get_ou(ou_id)
    if ou is None:
        raise OrganizationalUnitNotFoundException(
            "We can't find an OU with the OrganizationalUnitId that you specified.",
        )
    return ou  # type: ignore[no-any-return]


@operation("organizations", "DescribeOrganizationalUnit")
def describe_organizational_unit(call: Call, p: Params) -> Result:
    org = management_only(
        call, "organizations:DescribeOrganizationalUnit", _arn_of(p["OrganizationalUnitId"])
    )
    with call.runtime.store.transaction() as tx:
        return {"OrganizationalUnit": _ou_shape(org, _ou(tx, p["OrganizationalUnitId"]))}


@operation("organizations", "UpdateOrganizationalUnit")
def update_organizational_unit(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:UpdateOrganizationalUnit", _arn_of(p["OrganizationalUnitId"]))
    with call.runtime.store.transaction() as tx:
        ou = _ou(tx, p["OrganizationalUnitId"])
        if p.get("Name"):
            _refuse_duplicate(tx, ou.parent_id, p["Name"], ou.ou_id)
            ou = replace(ou, name=p["Name"])
            tx.put_ou(ou)
    call.runtime.changed()
    return {"OrganizationalUnit": _ou_shape(org, ou)}


@operation("organizations", "DeleteOrganizationalUnit")
def delete_organizational_unit(call: Call, p: Params) -> Result:
    management_only(call, "organizations:DeleteOrganizationalUnit", _arn_of(p["OrganizationalUnitId"]))
    with call.runtime.store.transaction() as tx:
        ou = _ou(tx, p["OrganizationalUnitId"])
        if tx.list_ous(ou.ou_id) or tx.accounts_under(ou.ou_id):
            raise OrganizationalUnitNotEmptyException(
                "The specified OU is not empty. Move all accounts "
                "to another root or OU and delete all child OUs, then try the operation again.",
            )
        tx.delete_ou(ou.ou_id)
        tx.delete_org_tags(ou.ou_id)
    call.runtime.changed()
    return {}


@operation("organizations", "ListOrganizationalUnitsForParent")
def list_organizational_units_for_parent(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:ListOrganizationalUnitsForParent", _arn_of(p["ParentId"]))
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, org, p["ParentId"])
        found, more = page(tx.list_ous(p["ParentId"]), p, lambda o: o.ou_id)
    return {"OrganizationalUnits": [_ou_shape(org, o) for o in found], **more}


def _accounts_in(tx: Any, org: Organization, parent_id: str) -> list[str]:
    """The member accounts directly in the root or OU (not in its OUs)."""
    accounts = [a.account_id for a in tx.list_accounts() if a.in_organization]
    if parent_id == org.root_id:
        return [a for a in accounts if (tx.parent_of_account(a) or parent_id) == parent_id]
    members = set(accounts)
    return [a for a in tx.accounts_under(parent_id) if a in members]


def _children(tx: Any, org: Organization, parent_id: str) -> list[tuple[str, str]]:
    return [(o.ou_id, "ORGANIZATIONAL_UNIT") for o in tx.list_ous(parent_id)] + [
        (a, "ACCOUNT") for a in _accounts_in(tx, org, parent_id)
    ]


@operation("organizations", "ListChildren")
def list_children(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:ListChildren", _arn_of(p["ParentId"]))
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, org, p["ParentId"])
        children = [(i, t) for i, t in _children(tx, org, p["ParentId"]) if t == p["ChildType"]]
    found, more = page(children, p, lambda c: c[0])
    return {"Children": [{"Id": i, "Type": t} for i, t in found], **more}


@operation("organizations", "ListAccountsForParent")
def list_accounts_for_parent(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:ListAccountsForParent", _arn_of(p["ParentId"]))
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, org, p["ParentId"])
        accounts = [tx.get_account(a) for a in _accounts_in(tx, org, p["ParentId"])]
    found, more = page([a for a in accounts if a is not None], p, lambda a: a.account_id)
    return {"Accounts": [account_shape(org, a, call.now) for a in found], **more}


@operation("organizations", "ListParents")
def list_parents(call: Call, p: Params) -> Result:
    child = p["ChildId"]
    org = management_only(call, "organizations:ListParents", _arn_of(child))
    with call.runtime.store.transaction() as tx:
        if child.startswith("ou-"):
            parent = _ou(tx, child).parent_id
        else:
            account = tx.get_account(child)
            if account is None or not account.in_organization:
                raise ChildNotFoundException(
                    "We can't find an organizational unit (OU) or account "
                    "with the ChildId that you specified.",
                )
            parent = tx.parent_of_account(child) or org.root_id
    found, more = page([parent], p, lambda x: x)
    kind = "ROOT" if parent.startswith("r-") else "ORGANIZATIONAL_UNIT"
    return {"Parents": [{"Id": x, "Type": kind} for x in found], **more}


@operation("organizations", "MoveAccount")
def move_account(call: Call, p: Params) -> Result:
    account = p["AccountId"]
    org = management_only(call, "organizations:MoveAccount", _arn_of(account))
    with call.runtime.store.transaction() as tx:
        found = tx.get_account(account)
        if found is None or not found.in_organization:
            raise AccountNotFoundException("You specified an account that doesn't exist.")
        _check_parent(tx, org, p["SourceParentId"], SourceParentNotFoundException)
        _check_parent(tx, org, p["DestinationParentId"], DestinationParentNotFoundException)
        if (tx.parent_of_account(account) or org.root_id) != p["SourceParentId"]:
            raise AccountNotFoundException("You specified an account that doesn't exist.")
        if p["SourceParentId"] == p["DestinationParentId"]:
            raise DuplicateAccountException("That account is already present in the specified destination.")
        tx.set_account_parent(account, p["DestinationParentId"])
    call.runtime.changed()
    return {}
