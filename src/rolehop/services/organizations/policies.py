"""Organizations' guardrails: service and resource control policies, and their attachment to the
root, OUs and accounts (Create/Describe/Update/Delete/ListPolicies, Attach/DetachPolicy,
ListPoliciesForTarget, ListTargetsForPolicy).

Every target holds at least one policy of each type (AWS refuses to detach the last); a target
nobody has attached anything to holds the AWS-managed FullAWSAccess (RCPFullAWSAccess for RCPs).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolehop.core.errors import (
    ConstraintViolationException,
    DuplicatePolicyAttachmentException,
    DuplicatePolicyException,
    PolicyChangesNotAllowedException,
    PolicyInUseException,
    PolicyNotAttachedException,
    PolicyNotFoundException,
    PolicyTypeNotEnabledException,
    TargetNotFoundException,
)
from rolehop.core.ids import is_account_id
from rolehop.core.organization import OrgPolicy, root_id
from rolehop.core.policy.validate import SCP_MAX, validate_policy
from rolehop.services.organizations.common import management_only, org_arn
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.control_policies import DEFAULTS, RCP, SCP, effective_policies
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.organizations import OrgTx


def _policy_arn(mgmt: str, policy: OrgPolicy) -> str:
    if policy.aws_managed:
        kind = "service_control_policy" if policy.policy_type == SCP else "resource_control_policy"
        return f"arn:aws:organizations::aws:policy/{kind}/{policy.policy_id}"
    return org_arn(mgmt, "policy", f"/{policy.policy_type.lower()}/{policy.policy_id}")


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
        raise PolicyNotFoundException("We can't find a policy with the PolicyId that you specified.")
    return found


def _check_target(tx: Any, mgmt: str, target_id: str) -> None:
    if target_id == root_id(mgmt) or (target_id.startswith("ou-") and tx.get_ou(target_id)):
        return
    if is_account_id(target_id) and tx.get_account(target_id):
        return
    raise TargetNotFoundException("We can't find a root, OU, account, or email that you specified.")


def _content(p: Params, policy_type: str) -> str:
    content = str(p["Content"])
    validate_policy(content, "scp", max_chars=SCP_MAX)
    return content


@operation("organizations", "CreatePolicy")
def create_policy(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:CreatePolicy")
    policy_type = p["Type"]
    if policy_type not in (SCP, RCP):
        raise PolicyTypeNotEnabledException("The specified policy type isn't currently enabled in this root.")
    policy = OrgPolicy(
        "p-" + call.runtime.random(6).hex(),
        p["Name"],
        policy_type,
        _content(p, policy_type),
        p.get("Description") or "",
    )
    with call.runtime.store.transaction() as tx:
        if any(x.name == policy.name for x in tx.list_org_policies(policy_type)):
            raise DuplicatePolicyException("A policy with the same name already exists.")
        tx.put_org_policy(policy)
    call.runtime.changed()
    return {"Policy": {"PolicySummary": _summary(mgmt, policy), "Content": policy.content}}


@operation("organizations", "DescribePolicy")
def describe_policy(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:DescribePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
    return {"Policy": {"PolicySummary": _summary(mgmt, policy), "Content": policy.content}}


@operation("organizations", "UpdatePolicy")
def update_policy(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:UpdatePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        if policy.aws_managed:
            raise PolicyChangesNotAllowedException("Changes to an AWS managed policy are not allowed.")
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
    management_only(call, "organizations:DeletePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        if policy.aws_managed:
            raise PolicyChangesNotAllowedException("Changes to an AWS managed policy are not allowed.")
        if tx.org_policy_targets(policy.policy_id):
            raise PolicyInUseException(
                "The policy is attached to one or more entities. You must detach "
                "it from all roots, OUs, and accounts before performing this operation.",
            )
        tx.delete_org_policy(policy.policy_id)
    call.runtime.changed()
    return {}


@operation("organizations", "ListPolicies")
def list_policies(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListPolicies")
    policy_type = p["Filter"]
    with call.runtime.store.transaction() as tx:
        stored = tx.list_org_policies(policy_type)
    default = [DEFAULTS[policy_type]] if policy_type in DEFAULTS else []
    return {"Policies": [_summary(mgmt, x) for x in default + [s for s in stored if not s.aws_managed]]}


@operation("organizations", "ListPoliciesForTarget")
def list_policies_for_target(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListPoliciesForTarget")
    with call.runtime.store.transaction() as tx:
        _check_target(tx, mgmt, p["TargetId"])
        found = effective_policies(tx, p["TargetId"], p["Filter"]) if p["Filter"] in DEFAULTS else []
    return {"Policies": [_summary(mgmt, x) for x in found]}


@operation("organizations", "ListTargetsForPolicy")
def list_targets_for_policy(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListTargetsForPolicy")
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
    return org_arn(mgmt, kind, f"/{target_id}")


@operation("organizations", "AttachPolicy")
def attach_policy(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:AttachPolicy")
    target = p["TargetId"]
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        _check_target(tx, mgmt, target)
        current = effective_policies(tx, target, policy.policy_type)
        if policy.policy_id in {x.policy_id for x in current}:
            raise DuplicatePolicyAttachmentException(
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
    mgmt = management_only(call, "organizations:DetachPolicy")
    target = p["TargetId"]
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        _check_target(tx, mgmt, target)
        current = effective_policies(tx, target, policy.policy_type)
        if policy.policy_id not in {x.policy_id for x in current}:
            raise PolicyNotAttachedException("The policy isn't attached to the specified target.")
        if len(current) == 1:
            raise ConstraintViolationException(
                "You cannot remove the last policy of this type attached to the target.",
                reason="MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            )
        for existing in current:
            _store_attachment(tx, existing, target)
        tx.detach_org_policy(policy.policy_id, target)
    call.runtime.changed()
    return {}
