"""Organizations' structure and guardrails: organizational units, and service/resource control
policies attached to the root, OUs and accounts (CreatePolicy, AttachPolicy, MoveAccount…).

Every target holds at least one policy of each type (AWS refuses to detach the last); a target
nobody has attached anything to holds the AWS-managed FullAWSAccess (RCPFullAWSAccess for RCPs).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolehop.core.errors import AwsError
from rolehop.core.ids import is_account_id
from rolehop.core.organization import (
    OrgPolicy,
    OrgUnit,
    organization_id,
    root_id,
)
from rolehop.core.policy.validate import SCP_MAX, validate_policy
from rolehop.services.authorize import authorize
from rolehop.services.call import Call
from rolehop.services.control_policies import DEFAULTS, RCP, SCP, effective_policies
from rolehop.services.org_ports import OrgTx
from rolehop.services.registry import Params, Result, operation


def _error(code: str, message: str) -> AwsError:
    return AwsError(message, code=code, status=400)


def _mgmt(call: Call, action: str) -> str:
    mgmt = call.runtime.settings.management_account_id
    if call.caller.account_id != mgmt:
        raise _error("AccessDeniedException", "You don't have permissions to access this resource.")
    authorize(call, action, "*")
    return mgmt


def _arn(mgmt: str, kind: str, suffix: str) -> str:
    return f"arn:aws:organizations::{mgmt}:{kind}/{organization_id(mgmt)}/{suffix}"


def _policy_arn(mgmt: str, policy: OrgPolicy) -> str:
    if policy.aws_managed:
        kind = "service_control_policy" if policy.policy_type == SCP else "resource_control_policy"
        return f"arn:aws:organizations::aws:policy/{kind}/{policy.policy_id}"
    return _arn(mgmt, "policy", f"{policy.policy_type.lower()}/{policy.policy_id}")


def _summary(mgmt: str, policy: OrgPolicy) -> dict[str, Any]:
    return {
        "Id": policy.policy_id,
        "Arn": _policy_arn(mgmt, policy),
        "Name": policy.name,
        "Description": policy.description,
        "Type": policy.policy_type,
        "AwsManaged": policy.aws_managed,
    }


def _policy_of(tx: OrgTx, policy_id: str) -> OrgPolicy:
    for default in DEFAULTS.values():
        if policy_id == default.policy_id:
            return default
    found = tx.get_org_policy(policy_id)
    if found is None:
        raise _error(
            "PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified."
        )
    return found


def _check_target(tx: Any, mgmt: str, target_id: str) -> None:
    if target_id == root_id(mgmt) or (target_id.startswith("ou-") and tx.get_ou(target_id)):
        return
    if is_account_id(target_id) and tx.get_account(target_id):
        return
    raise _error("TargetNotFoundException", "We can't find a root, OU, account, or email that you specified.")


def _content(p: Params, policy_type: str) -> str:
    content = str(p["Content"])
    validate_policy(content, "scp", max_chars=SCP_MAX)
    return content


@operation("organizations", "CreatePolicy")
def create_policy(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:CreatePolicy")
    policy_type = p["Type"]
    if policy_type not in (SCP, RCP):
        raise _error(
            "PolicyTypeNotEnabledException", "The specified policy type isn't currently enabled in this root."
        )
    policy = OrgPolicy(
        "p-" + call.runtime.random(6).hex(),
        p["Name"],
        policy_type,
        _content(p, policy_type),
        p.get("Description") or "",
    )
    with call.runtime.store.transaction() as tx:
        if any(x.name == policy.name for x in tx.list_org_policies(policy_type)):
            raise _error("DuplicatePolicyException", "A policy with the same name already exists.")
        tx.put_org_policy(policy)
    call.runtime.changed()
    return {"Policy": {"PolicySummary": _summary(mgmt, policy), "Content": policy.content}}


@operation("organizations", "DescribePolicy")
def describe_policy(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:DescribePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
    return {"Policy": {"PolicySummary": _summary(mgmt, policy), "Content": policy.content}}


@operation("organizations", "UpdatePolicy")
def update_policy(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:UpdatePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        if policy.aws_managed:
            raise _error(
                "PolicyChangesNotAllowedException", "Changes to an AWS managed policy are not allowed."
            )
        policy = replace(
            policy,
            name=p.get("Name") or policy.name,
            description=p.get("Description", policy.description),
            content=_content(p, policy.policy_type) if p.get("Content") else policy.content,
        )
        tx.put_org_policy(policy)
    call.runtime.changed()
    return {"Policy": {"PolicySummary": _summary(mgmt, policy), "Content": policy.content}}


@operation("organizations", "DeletePolicy")
def delete_policy(call: Call, p: Params) -> Result:
    _mgmt(call, "organizations:DeletePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        if policy.aws_managed:
            raise _error(
                "PolicyChangesNotAllowedException", "Changes to an AWS managed policy are not allowed."
            )
        if tx.org_policy_targets(policy.policy_id):
            raise _error(
                "PolicyInUseException",
                "The policy is attached to one or more entities. You must detach "
                "it from all roots, OUs, and accounts before performing this operation.",
            )
        tx.delete_org_policy(policy.policy_id)
    call.runtime.changed()
    return {}


@operation("organizations", "ListPolicies")
def list_policies(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:ListPolicies")
    policy_type = p["Filter"]
    with call.runtime.store.transaction() as tx:
        stored = tx.list_org_policies(policy_type)
    default = [DEFAULTS[policy_type]] if policy_type in DEFAULTS else []
    return {"Policies": [_summary(mgmt, x) for x in default + [s for s in stored if not s.aws_managed]]}


@operation("organizations", "ListPoliciesForTarget")
def list_policies_for_target(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:ListPoliciesForTarget")
    with call.runtime.store.transaction() as tx:
        _check_target(tx, mgmt, p["TargetId"])
        found = effective_policies(tx, p["TargetId"], p["Filter"]) if p["Filter"] in DEFAULTS else []
    return {"Policies": [_summary(mgmt, x) for x in found]}


@operation("organizations", "ListTargetsForPolicy")
def list_targets_for_policy(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:ListTargetsForPolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        targets = tx.org_policy_targets(policy.policy_id)
    return {
        "Targets": [
            {"TargetId": t, "Arn": _target_arn(mgmt, t), "Name": t, "Type": _target_type(t)} for t in targets
        ]
    }


def _target_type(target_id: str) -> str:
    return (
        "ROOT"
        if target_id.startswith("r-")
        else "ORGANIZATIONAL_UNIT"
        if target_id.startswith("ou-")
        else "ACCOUNT"
    )


def _target_arn(mgmt: str, target_id: str) -> str:
    kind = {"ROOT": "root", "ORGANIZATIONAL_UNIT": "ou", "ACCOUNT": "account"}[_target_type(target_id)]
    return _arn(mgmt, kind, target_id)


@operation("organizations", "AttachPolicy")
def attach_policy(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:AttachPolicy")
    target = p["TargetId"]
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        _check_target(tx, mgmt, target)
        current = effective_policies(tx, target, policy.policy_type)
        if policy.policy_id in {x.policy_id for x in current}:
            raise _error(
                "DuplicatePolicyAttachmentException",
                "The selected policy is already attached to the specified target.",
            )
        for existing in current:  # the implicit default becomes explicit before anything joins it
            _store_attachment(tx, existing, target)
        _store_attachment(tx, policy, target)
    call.runtime.changed()
    return {}


def _store_attachment(tx: Any, policy: OrgPolicy, target: str) -> None:
    if policy.aws_managed and tx.get_org_policy(policy.policy_id) is None:
        tx.put_org_policy(policy)
    if target not in tx.org_policy_targets(policy.policy_id):
        tx.attach_org_policy(policy.policy_id, target)


@operation("organizations", "DetachPolicy")
def detach_policy(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:DetachPolicy")
    target = p["TargetId"]
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        _check_target(tx, mgmt, target)
        current = effective_policies(tx, target, policy.policy_type)
        if policy.policy_id not in {x.policy_id for x in current}:
            raise _error("PolicyNotAttachedException", "The policy isn't attached to the specified target.")
        if len(current) == 1:
            error = _error(
                "ConstraintViolationException",
                "You cannot remove the last policy of this type attached to the target.",
            )
            error.fields = {"Reason": "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"}
            raise error
        for existing in current:
            _store_attachment(tx, existing, target)
        tx.detach_org_policy(policy.policy_id, target)
    call.runtime.changed()
    return {}


def _ou_shape(mgmt: str, ou: OrgUnit) -> dict[str, Any]:
    return {"Id": ou.ou_id, "Arn": _arn(mgmt, "ou", ou.ou_id), "Name": ou.name}


def _check_parent(tx: Any, mgmt: str, parent_id: str, code: str = "ParentNotFoundException") -> None:
    if parent_id != root_id(mgmt) and not (parent_id.startswith("ou-") and tx.get_ou(parent_id)):
        raise _error(code, "We can't find a root or OU with the ParentId that you specified.")


@operation("organizations", "CreateOrganizationalUnit")
def create_organizational_unit(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:CreateOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, mgmt, p["ParentId"])
        if any(o.name == p["Name"] for o in tx.list_ous(p["ParentId"])):
            raise _error("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
        ou = OrgUnit(f"ou-{root_id(mgmt)[2:]}-{call.runtime.random(4).hex()}", p["ParentId"], p["Name"])
        tx.put_ou(ou)
    call.runtime.changed()
    return {"OrganizationalUnit": _ou_shape(mgmt, ou)}


def _ou(tx: Any, ou_id: str) -> OrgUnit:
    ou = tx.get_ou(ou_id)
    if ou is None:
        raise _error(
            "OrganizationalUnitNotFoundException",
            "We can't find an OU with the OrganizationalUnitId that you specified.",
        )
    return ou  # type: ignore[no-any-return]


@operation("organizations", "DescribeOrganizationalUnit")
def describe_organizational_unit(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:DescribeOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        return {"OrganizationalUnit": _ou_shape(mgmt, _ou(tx, p["OrganizationalUnitId"]))}


@operation("organizations", "UpdateOrganizationalUnit")
def update_organizational_unit(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:UpdateOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        ou = replace(_ou(tx, p["OrganizationalUnitId"]), name=p.get("Name") or "")
        tx.put_ou(ou)
    return {"OrganizationalUnit": _ou_shape(mgmt, ou)}


@operation("organizations", "DeleteOrganizationalUnit")
def delete_organizational_unit(call: Call, p: Params) -> Result:
    _mgmt(call, "organizations:DeleteOrganizationalUnit")
    with call.runtime.store.transaction() as tx:
        ou = _ou(tx, p["OrganizationalUnitId"])
        if tx.list_ous(ou.ou_id) or tx.accounts_under(ou.ou_id):
            raise _error(
                "OrganizationalUnitNotEmptyException",
                "The specified OU is not empty. Move all accounts "
                "to another root or OU and delete all child OUs, then try the operation again.",
            )
        tx.delete_ou(ou.ou_id)
    call.runtime.changed()
    return {}


@operation("organizations", "ListOrganizationalUnitsForParent")
def list_organizational_units_for_parent(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:ListOrganizationalUnitsForParent")
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
    mgmt = _mgmt(call, "organizations:ListChildren")
    with call.runtime.store.transaction() as tx:
        _check_parent(tx, mgmt, p["ParentId"])
        children = [
            {"Id": i, "Type": t} for i, t in _children(tx, mgmt, p["ParentId"]) if t == p["ChildType"]
        ]
    return {"Children": children}


@operation("organizations", "ListParents")
def list_parents(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:ListParents")
    child = p["ChildId"]
    with call.runtime.store.transaction() as tx:
        if child.startswith("ou-"):
            parent = _ou(tx, child).parent_id
        else:
            if tx.get_account(child) is None:
                raise _error(
                    "ChildNotFoundException",
                    "We can't find an organizational unit (OU) or account "
                    "with the ChildId that you specified.",
                )
            parent = tx.parent_of_account(child) or root_id(mgmt)
    return {"Parents": [{"Id": parent, "Type": "ROOT" if parent.startswith("r-") else "ORGANIZATIONAL_UNIT"}]}


@operation("organizations", "MoveAccount")
def move_account(call: Call, p: Params) -> Result:
    mgmt = _mgmt(call, "organizations:MoveAccount")
    account = p["AccountId"]
    with call.runtime.store.transaction() as tx:
        if tx.get_account(account) is None:
            raise _error("AccountNotFoundException", "You specified an account that doesn't exist.")
        _check_parent(tx, mgmt, p["SourceParentId"], "SourceParentNotFoundException")
        _check_parent(tx, mgmt, p["DestinationParentId"], "DestinationParentNotFoundException")
        if (tx.parent_of_account(account) or root_id(mgmt)) != p["SourceParentId"]:
            raise _error("AccountNotFoundException", "You specified an account that doesn't exist.")
        if p["SourceParentId"] == p["DestinationParentId"]:
            raise _error(
                "DuplicateAccountException", "That account is already present in the specified destination."
            )
        tx.set_account_parent(account, p["DestinationParentId"])
    call.runtime.changed()
    return {}
