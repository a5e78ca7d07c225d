"""Organizations' structure: organizational units under the root, and the accounts in them
(Create/Describe/Update/DeleteOrganizationalUnit, ListOrganizationalUnitsForParent, ListChildren,
ListParents, MoveAccount). Which control policies bind an account follows from this tree
(pipeline.control_policies)."""

from __future__ import annotations

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
from rolehop.core.organization import OrgUnit, root_id
from rolehop.services.organizations.common import management_only, org_arn
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.organizations import OrgTx


def _ou_shape(mgmt: str, ou: OrgUnit) -> dict[str, Any]:
    return {"Id": ou.ou_id, "Arn": org_arn(mgmt, "ou", f"/{ou.ou_id}"), "Name": ou.name}


def _check_parent(
    tx: OrgTx, mgmt: str, parent_id: str, missing: type[ClientError] = ParentNotFoundException
) -> None:
    if parent_id != root_id(mgmt) and not (parent_id.startswith("ou-") and tx.get_ou(parent_id)):
        raise missing("We can't find a root or OU with the ParentId that you specified.")


@operation("organizations", "CreateOrganizationalUnit")
def create_organizational_unit(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:CreateOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, mgmt, p["ParentId"])
        if any(o.name == p["Name"] for o in tx.list_ous(p["ParentId"])):
            raise DuplicateOrganizationalUnitException("An OU with the same name already exists.")
        ou = OrgUnit(f"ou-{root_id(mgmt)[2:]}-{call.runtime.random(4).hex()}", p["ParentId"], p["Name"])
        tx.put_ou(ou)
    call.runtime.changed()
    return {"OrganizationalUnit": _ou_shape(mgmt, ou)}


def _ou(tx: Any, ou_id: str) -> OrgUnit:
    ou = tx.get_ou(ou_id)
    if ou is None:
        raise OrganizationalUnitNotFoundException(
            "We can't find an OU with the OrganizationalUnitId that you specified.",
        )
    return ou  # type: ignore[no-any-return]


@operation("organizations", "DescribeOrganizationalUnit")
def describe_organizational_unit(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:DescribeOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        return {"OrganizationalUnit": _ou_shape(mgmt, _ou(tx, p["OrganizationalUnitId"]))}


@operation("organizations", "UpdateOrganizationalUnit")
def update_organizational_unit(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:UpdateOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        ou = replace(_ou(tx, p["OrganizationalUnitId"]), name=p.get("Name") or "")
        tx.put_ou(ou)
    return {"OrganizationalUnit": _ou_shape(mgmt, ou)}


@operation("organizations", "DeleteOrganizationalUnit")
def delete_organizational_unit(call: Call, p: Params) -> Result:
    management_only(call, "organizations:DeleteOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        ou = _ou(tx, p["OrganizationalUnitId"])
        if tx.list_ous(ou.ou_id) or tx.accounts_under(ou.ou_id):
            raise OrganizationalUnitNotEmptyException(
                "The specified OU is not empty. Move all accounts "
                "to another root or OU and delete all child OUs, then try the operation again.",
            )
        tx.delete_ou(ou.ou_id)
    call.runtime.changed()
    return {}


@operation("organizations", "ListOrganizationalUnitsForParent")
def list_organizational_units_for_parent(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListOrganizationalUnitsForParent")
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, mgmt, p["ParentId"])
        return {"OrganizationalUnits": [_ou_shape(mgmt, o) for o in tx.list_ous(p["ParentId"])]}


def _children(tx: Any, mgmt: str, parent_id: str) -> list[tuple[str, str]]:
    accounts = [a.account_id for a in tx.list_accounts()]
    if parent_id == root_id(mgmt):
        direct = [a for a in accounts if (tx.parent_of_account(a) or parent_id) == parent_id]
    else:
        direct = tx.accounts_under(parent_id)
    return [(o.ou_id, "ORGANIZATIONAL_UNIT") for o in tx.list_ous(parent_id)] + [
        (a, "ACCOUNT") for a in direct
    ]


@operation("organizations", "ListChildren")
def list_children(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListChildren")
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, mgmt, p["ParentId"])
        children = [
            {"Id": i, "Type": t} for i, t in _children(tx, mgmt, p["ParentId"]) if t == p["ChildType"]
        ]
    return {"Children": children}


@operation("organizations", "ListParents")
def list_parents(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListParents")
    child = p["ChildId"]
    with call.runtime.store.transaction() as tx:
        if child.startswith("ou-"):
            parent = _ou(tx, child).parent_id
        else:
            if tx.get_account(child) is None:
                raise ChildNotFoundException(
                    "We can't find an organizational unit (OU) or account "
                    "with the ChildId that you specified.",
                )
            parent = tx.parent_of_account(child) or root_id(mgmt)
    return {"Parents": [{"Id": parent, "Type": "ROOT" if parent.startswith("r-") else "ORGANIZATIONAL_UNIT"}]}


@operation("organizations", "MoveAccount")
def move_account(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:MoveAccount")
    account = p["AccountId"]
    with call.runtime.store.transaction() as tx:
        if tx.get_account(account) is None:
            raise AccountNotFoundException("You specified an account that doesn't exist.")
        _check_parent(tx, mgmt, p["SourceParentId"], SourceParentNotFoundException)
        _check_parent(tx, mgmt, p["DestinationParentId"], DestinationParentNotFoundException)
        if (tx.parent_of_account(account) or root_id(mgmt)) != p["SourceParentId"]:
            raise AccountNotFoundException("You specified an account that doesn't exist.")
        if p["SourceParentId"] == p["DestinationParentId"]:
            raise DuplicateAccountException("That account is already present in the specified destination.")
        tx.set_account_parent(account, p["DestinationParentId"])
    call.runtime.changed()
    return {}
