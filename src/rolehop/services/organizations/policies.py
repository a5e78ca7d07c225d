"""Organizations' policies of every type and their attachment to the root, OUs and accounts
(Create/Describe/Update/Delete/ListPolicies, Attach/DetachPolicy, ListPoliciesForTarget,
ListTargetsForPolicy), and `validate_policy_content`: the check CreatePolicy makes of a document.

SCPs are checked as service control policies and RCPs as resource control policies
(core.policy.validate), the management types against their documented syntax
(core.org_policy_syntax); each type has its size, count and attachment quotas
(ConstraintViolationException with AWS's reasons). Policies of every type need an organization with
all features; one attaches only where its type is enabled in the root (roots.py).

While SCPs (RCPs) are enabled every target holds FullAWSAccess (RCPFullAWSAccess) unless other SCPs
replaced it (pipeline.control_policies keeps that default implicit until a target's policies of the
type change); a target keeps at least one SCP, and RCPFullAWSAccess can't be detached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rolehop.core.errors import (
    ConstraintViolationException,
    DuplicatePolicyAttachmentException,
    DuplicatePolicyException,
    InvalidInputException,
    MalformedPolicyDocumentException,
    PolicyInUseException,
    PolicyNotAttachedException,
    PolicyNotFoundException,
    PolicyTypeNotEnabledException,
    TargetNotFoundException,
)
from rolehop.core.ids import is_account_id
from rolehop.core.org_policy_syntax import ATTACHED_MAX, CONTENT_MAX, POLICIES_MAX, management_policy_fault
from rolehop.core.organization import RCP, SCP, Organization, OrgPolicy, new_policy_id
from rolehop.core.policy.validate import SCP_MALFORMED, SCP_TOO_LARGE, validate_policy
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.paging import page
from rolehop.services.organizations.roots import (
    NOT_ENABLED,
    check_available,
    check_policy_type,
    policy_type_context,
)
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.control_policies import (
    DEFAULTS,
    RCP_FULL_ACCESS_ID,
    attached_policies,
    effective_policies,
)
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.organizations import OrgTx
from rolehop.services.ports.store import Tx

IMMUTABLE = "You specified a policy that is managed by AWS and can't be modified."


def validate_policy_content(policy_type: str, content: str) -> None:
    """Raise what CreatePolicy raises for `content` as a policy of `policy_type`: InvalidInputException
    for an unknown type, ConstraintViolationException (POLICY_CONTENT_LIMIT_EXCEEDED) past the type's
    size quota, MalformedPolicyDocumentException for a document the type's syntax refuses."""
    check_policy_type(policy_type)
    limit = CONTENT_MAX[policy_type]
    if policy_type in (SCP, RCP):
        validate_policy(content, "scp" if policy_type == SCP else "rcp", max_chars=limit)
        return
    if len(content) > limit:
        raise ConstraintViolationException(SCP_TOO_LARGE, reason="POLICY_CONTENT_LIMIT_EXCEEDED")
    fault = management_policy_fault(policy_type, content)
    if fault is not None:
        error = MalformedPolicyDocumentException(SCP_MALFORMED)
        error.add_note(fault)
        raise error


def _policy_arn(org: Organization, policy: OrgPolicy) -> str:
    if policy.aws_managed:
        kind = "service_control_policy" if policy.policy_type == SCP else "resource_control_policy"
        return f"arn:aws:organizations::aws:policy/{kind}/{policy.policy_id}"
    return org.resource_arn("policy", f"/{policy.policy_type.lower()}/{policy.policy_id}")


def _summary(org: Organization, policy: OrgPolicy) -> dict[str, Any]:
    return {
        "Id": policy.policy_id,
        "Arn": _policy_arn(org, policy),
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


def _now(tx: OrgTx, org: Organization) -> Organization:
    """The organization as this transaction sees it (its enabled policy types may have changed)."""
    return tx.get_organization() or org


def _check_target(tx: Tx, org: Organization, target_id: str) -> None:
    if target_id == org.root_id or (target_id.startswith("ou-") and tx.get_ou(target_id)):
        return
    account = tx.get_account(target_id) if is_account_id(target_id) else None
    if account is not None and account.in_organization:
        return
    raise TargetNotFoundException("We can't find a root, OU, account, or email that you specified.")


def _check_immutable(policy: OrgPolicy) -> None:
    if policy.aws_managed:
        raise InvalidInputException(IMMUTABLE, reason="IMMUTABLE_POLICY")


@operation("organizations", "CreatePolicy")
def create_policy(call: Call, p: Params) -> Result:
    policy_type = p["Type"]
    org = management_only(call, "organizations:CreatePolicy", context=policy_type_context(policy_type))
    check_policy_type(policy_type)
    check_available(org)
    content = str(p["Content"])
    validate_policy_content(policy_type, content)
    policy = OrgPolicy(
        new_policy_id(call.runtime.random(8)),
        p["Name"],
        policy_type,
        content,
        p.get("Description") or "",
    )
    with call.runtime.store.transaction() as tx:
        existing = [x for x in tx.list_org_policies(policy_type) if not x.aws_managed]
        if any(x.name == policy.name for x in existing):
            raise DuplicatePolicyException("A policy with the same name already exists.")
        if len(existing) >= POLICIES_MAX[policy_type]:
            raise ConstraintViolationException(
                "You attempted to exceed the number of policies that you can have in an organization.",
                reason="POLICY_NUMBER_LIMIT_EXCEEDED",
            )
        tx.put_org_policy(policy)
    call.runtime.changed()
    return {"Policy": {"PolicySummary": _summary(org, policy), "Content": policy.content}}


@operation("organizations", "DescribePolicy")
def describe_policy(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:DescribePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
    return {"Policy": {"PolicySummary": _summary(org, policy), "Content": policy.content}}


@operation("organizations", "UpdatePolicy")
def update_policy(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:UpdatePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        _check_immutable(policy)
        name = p.get("Name") or policy.name
        if name != policy.name and any(x.name == name for x in tx.list_org_policies(policy.policy_type)):
            raise DuplicatePolicyException("A policy with the same name already exists.")
        content = p.get("Content")
        if content:
            validate_policy_content(policy.policy_type, content)
        policy = replace(
            policy,
            name=name,
            description=p.get("Description", policy.description),
            content=content or policy.content,
        )
        tx.put_org_policy(policy)
    call.runtime.changed()
    return {"Policy": {"PolicySummary": _summary(org, policy), "Content": policy.content}}


@operation("organizations", "DeletePolicy")
def delete_policy(call: Call, p: Params) -> Result:
    management_only(call, "organizations:DeletePolicy")
    with call.runtime.store.transaction() as tx:
        policy = _policy_of(tx, p["PolicyId"])
        _check_immutable(policy)
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
    policy_type = p["Filter"]
    org = management_only(call, "organizations:ListPolicies", context=policy_type_context(policy_type))
    check_policy_type(policy_type)
    with call.runtime.store.transaction() as tx:
        stored = tx.list_org_policies(policy_type)
    default = [DEFAULTS[policy_type]] if policy_type in DEFAULTS else []
    found, more = page(default + [s for s in stored if not s.aws_managed], p, key=lambda x: x.policy_id)
    return {"Policies": [_summary(org, x) for x in found], **more}


@operation("organizations", "ListPoliciesForTarget")
def list_policies_for_target(call: Call, p: Params) -> Result:
    policy_type = p["Filter"]
    org = management_only(
        call, "organizations:ListPoliciesForTarget", context=policy_type_context(policy_type)
    )
    check_policy_type(policy_type)
    with call.runtime.store.transaction() as tx:
        org = _now(tx, org)
        _check_target(tx, org, p["TargetId"])
        attached = (
            effective_policies(tx, p["TargetId"], policy_type) if policy_type in org.policy_types else []
        )
    found, more = page(attached, p, key=lambda x: x.policy_id)
    return {"Policies": [_summary(org, x) for x in found], **more}


def all_targets(tx: Tx, org: Organization) -> list[str]:
    """Every root, OU and member account of the organization."""
    accounts = [a.account_id for a in tx.list_accounts() if a.in_organization]
    return [org.root_id, *(ou.ou_id for ou in tx.list_ous()), *accounts]


def policy_targets(tx: Tx, org: Organization, policy: OrgPolicy) -> list[str]:
    """Where a policy is attached: its stored attachments, and for FullAWSAccess (RCPFullAWSAccess)
    every target holding no stored SCP (RCP), while the type is enabled."""
    if policy.policy_type not in org.policy_types:
        return []
    stored = set(tx.org_policy_targets(policy.policy_id))
    implicit = DEFAULTS.get(policy.policy_type) == policy
    return [
        t
        for t in all_targets(tx, org)
        if t in stored or (implicit and not attached_policies(tx, t, policy.policy_type))
    ]


def _target_type(target_id: str) -> str:
    if target_id.startswith("r-"):
        return "ROOT"
    return "ORGANIZATIONAL_UNIT" if target_id.startswith("ou-") else "ACCOUNT"


def _target_shape(tx: Tx, org: Organization, target_id: str) -> dict[str, Any]:
    kind = _target_type(target_id)
    if kind == "ROOT":
        name = "Root"
    elif kind == "ORGANIZATIONAL_UNIT":
        ou = tx.get_ou(target_id)
        name = ou.name if ou else target_id
    else:
        account = tx.get_account(target_id)
        name = account.name if account else target_id
    arn_kind = {"ROOT": "root", "ORGANIZATIONAL_UNIT": "ou", "ACCOUNT": "account"}[kind]
    return {
        "TargetId": target_id,
        "Arn": org.resource_arn(arn_kind, f"/{target_id}"),
        "Name": name,
        "Type": kind,
    }


@operation("organizations", "ListTargetsForPolicy")
def list_targets_for_policy(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:ListTargetsForPolicy")
    with call.runtime.store.transaction() as tx:
        org = _now(tx, org)
        policy = _policy_of(tx, p["PolicyId"])
        targets = policy_targets(tx, org, policy)
        found, more = page(targets, p, key=lambda t: t)
        shapes = [_target_shape(tx, org, t) for t in found]
    return {"Targets": shapes, **more}


def _make_explicit(tx: OrgTx, policies: Sequence[OrgPolicy], target: str) -> None:
    """Store the target's current attachments, the implicit default among them."""
    for policy in policies:
        if policy.aws_managed and tx.get_org_policy(policy.policy_id) is None:
            tx.put_org_policy(policy)
        if target not in tx.org_policy_targets(policy.policy_id):
            tx.attach_org_policy(policy.policy_id, target)


@operation("organizations", "AttachPolicy")
def attach_policy(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:AttachPolicy")
    target = p["TargetId"]
    with call.runtime.store.transaction() as tx:
        org = _now(tx, org)
        policy = _policy_of(tx, p["PolicyId"])
        _check_target(tx, org, target)
        if policy.policy_type not in org.policy_types:
            raise PolicyTypeNotEnabledException(NOT_ENABLED)
        current = effective_policies(tx, target, policy.policy_type)
        if policy.policy_id in {x.policy_id for x in current}:
            raise DuplicatePolicyAttachmentException(
                "The selected policy is already attached to the specified target.",
            )
        if len(current) >= ATTACHED_MAX[policy.policy_type]:
            raise ConstraintViolationException(
                "You attempted to exceed the number of policies of a certain type that can be attached "
                "to an entity at one time.",
                reason="MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            )
        _make_explicit(tx, [*current, policy], target)
    call.runtime.changed()
    return {}


@operation("organizations", "DetachPolicy")
def detach_policy(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:DetachPolicy")
    target = p["TargetId"]
    with call.runtime.store.transaction() as tx:
        org = _now(tx, org)
        policy = _policy_of(tx, p["PolicyId"])
        _check_target(tx, org, target)
        enabled = policy.policy_type in org.policy_types
        current = effective_policies(tx, target, policy.policy_type) if enabled else []
        if policy.policy_id not in {x.policy_id for x in current}:
            raise PolicyNotAttachedException("The policy isn't attached to the specified target.")
        if policy.policy_id == RCP_FULL_ACCESS_ID:
            raise InvalidInputException(
                "You can't detach this Amazon Web Services Managed Policy.", reason="NON_DETACHABLE_POLICY"
            )
        if policy.policy_type == SCP and len(current) == 1:
            raise ConstraintViolationException(
                "You cannot remove the last policy of this type attached to the target.",
                reason="MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            )
        _make_explicit(tx, current, target)
        tx.detach_org_policy(policy.policy_id, target)
    call.runtime.changed()
    return {}
