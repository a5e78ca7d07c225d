"""What Organizations lets the management account hand to member accounts, as values and rules: the
AWS services it can trust (and how many delegated administrators each takes), the read-only access
a delegated administrator gets, the actions a resource-based delegation policy may grant, the
validation of that policy (PutResourcePolicy), and the resource policy a member's request is
judged against. Pure: no I/O; the policy engine decides every request.

Sources: Organizations User Guide, "AWS services that you can use with AWS Organizations" (service
principals, "Supports delegated administrator"), "Delegated administrator for AWS services that work
with Organizations" (the read-only actions a delegated administrator gets), "Delegated administrator
for AWS Organizations" and "Resource-based policy examples" (what a delegation policy grants), and
the ConstraintViolationException / InvalidInputException reasons of the API reference.
"""

from __future__ import annotations

import json
import re
from types import MappingProxyType
from typing import Any

from rolehop.core.bounded_json import load_json
from rolehop.core.errors import InvalidInputException, MalformedPolicyDocument
from rolehop.core.org_policy_syntax import POLICY_TYPES as MODEL_POLICY_TYPES
from rolehop.core.policy.validate import validate_policy
from rolehop.core.policy.validate_rules import glob_matches, principal_entries, string_values

# --- trusted services ---------------------------------------------------------------------------

# Service principal -> how many delegated administrators it takes (0: trusted access only). The
# services' own guides give the numbers: one for most, three for AWS Config and CloudTrail, five
# for CloudFormation StackSets, AWS Health and S3 Storage Lens.
SERVICE_PRINCIPALS: MappingProxyType[str, int] = MappingProxyType(
    {
        "access-analyzer.amazonaws.com": 1,
        "account.amazonaws.com": 1,
        "auditmanager.amazonaws.com": 1,
        "aws-artifact-account-sync.amazonaws.com": 0,
        "backup.amazonaws.com": 1,
        "cloudtrail.amazonaws.com": 3,
        "compute-optimizer.amazonaws.com": 1,
        "config-multiaccountsetup.amazonaws.com": 3,
        "config.amazonaws.com": 3,
        "controltower.amazonaws.com": 0,
        "cost-optimization-hub.bcm.amazonaws.com": 1,
        "declarative-policies.ec2.amazonaws.com": 0,
        "detective.amazonaws.com": 1,
        "devops-guru.amazonaws.com": 1,
        "ds.amazonaws.com": 0,
        "fms.amazonaws.com": 1,
        "guardduty.amazonaws.com": 1,
        "health.amazonaws.com": 5,
        "iam.amazonaws.com": 0,
        "inspector2.amazonaws.com": 1,
        "ipam.amazonaws.com": 1,
        "license-management.marketplace.amazonaws.com": 1,
        "license-manager-linux-subscriptions.amazonaws.com": 1,
        "license-manager.amazonaws.com": 1,
        "license-manager.member-account.amazonaws.com": 1,
        "macie.amazonaws.com": 1,
        "member.org.stacksets.cloudformation.amazonaws.com": 5,
        "mgn.amazonaws.com": 1,
        "networkmanager.amazonaws.com": 1,
        "notifications.amazonaws.com": 1,
        "ram.amazonaws.com": 0,
        "reachabilityanalyzer.networkinsights.amazonaws.com": 1,
        "reporting.trustedadvisor.amazonaws.com": 1,
        "resource-explorer-2.amazonaws.com": 1,
        "securityhub.amazonaws.com": 1,
        "securitylake.amazonaws.com": 1,
        "servicecatalog.amazonaws.com": 1,
        "servicequotas.amazonaws.com": 0,
        "ssm.amazonaws.com": 1,
        "sso.amazonaws.com": 1,
        "storage-lens.s3.amazonaws.com": 5,
        "tagpolicies.tag.amazonaws.com": 0,
        "wellarchitected.amazonaws.com": 1,
    }
)

# Policy types that work through a trusted service: its access cannot be disabled while the type
# is enabled (ConstraintViolationException POLICY_TYPE_ENABLED_FOR_THIS_SERVICE), nor the type
# enabled before the access (SERVICE_ACCESS_NOT_ENABLED).
POLICY_TYPE_SERVICES: MappingProxyType[str, str] = MappingProxyType(
    {
        "SECURITYHUB_POLICY": "securityhub.amazonaws.com",
        "INSPECTOR_POLICY": "inspector2.amazonaws.com",
        "GUARDDUTY_POLICY": "guardduty.amazonaws.com",
    }
)

# Every policy type of the pinned model (a delegation policy's organizations:PolicyType names them).
POLICY_TYPES = frozenset(MODEL_POLICY_TYPES)


def unrecognized_service(service_principal: str) -> InvalidInputException:
    return InvalidInputException(
        f"You specified a service principal that isn't recognized: {service_principal}",
        reason="UNRECOGNIZED_SERVICE_PRINCIPAL",
    )


def check_service_principal(service_principal: str, *, delegation: bool = False) -> int:
    """The number of delegated administrators the service takes; InvalidInputException
    UNRECOGNIZED_SERVICE_PRINCIPAL for a principal Organizations does not integrate with (with
    `delegation`, also for one that takes no delegated administrator)."""
    limit = SERVICE_PRINCIPALS.get(service_principal)
    if limit is None or (delegation and limit == 0):
        raise unrecognized_service(service_principal)
    return limit


# --- what a member account may be granted ------------------------------------------------------

# A delegated administrator of any service may read the organization (its identity policies
# permitting): "Delegated administrator for AWS services that work with Organizations".
DELEGATED_ADMIN_READS = frozenset(
    "organizations:" + name
    for name in (
        "DescribeAccount",
        "DescribeCreateAccountStatus",
        "DescribeEffectivePolicy",
        "DescribeHandshake",
        "DescribeOrganization",
        "DescribeOrganizationalUnit",
        "DescribePolicy",
        "DescribeResourcePolicy",
        "ListAccounts",
        "ListAccountsForParent",
        "ListAccountsWithInvalidEffectivePolicy",
        "ListAWSServiceAccessForOrganization",
        "ListChildren",
        "ListCreateAccountStatus",
        "ListDelegatedAdministrators",
        "ListDelegatedServicesForAccount",
        "ListEffectivePolicyValidationErrors",
        "ListHandshakesForAccount",
        "ListHandshakesForOrganization",
        "ListOrganizationalUnitsForParent",
        "ListParents",
        "ListPolicies",
        "ListPoliciesForTarget",
        "ListRoots",
        "ListTagsForResource",
        "ListTargetsForPolicy",
    )
)
# What the resource-based delegation policy may grant besides reads: policy management
# ("Delegated administrator for AWS Organizations" and its examples).
DELEGABLE_WRITES = frozenset(
    "organizations:" + name
    for name in (
        "AttachPolicy",
        "CreatePolicy",
        "DeletePolicy",
        "DetachPolicy",
        "DisablePolicyType",
        "EnablePolicyType",
        "TagResource",
        "UntagResource",
        "UpdatePolicy",
    )
)
DELEGABLE = DELEGATED_ADMIN_READS | DELEGABLE_WRITES
_DELEGABLE_LOWER = frozenset(a.lower() for a in DELEGABLE)


def delegable(action: str) -> bool:
    """Whether a member account may ever be allowed `action` (by delegation); everything else is
    the management account's alone."""
    return action.lower() in _DELEGABLE_LOWER


# --- the resource-based delegation policy -------------------------------------------------------

RESOURCE_POLICY_MAX = 40000  # ResourcePolicyContent's max in the model (the wire checks it too)
_POLICY_TYPE_KEY = "organizations:policytype"
_ORG_RESOURCE = re.compile(r"arn:aws:organizations::(\d{12}|aws):[\x21-\x7e]+")


def _invalid(message: str, reason: str) -> InvalidInputException:
    return InvalidInputException(message, reason=reason)


def validate_delegation_policy(content: str, management_account_id: str) -> None:
    """Raise InvalidInputException (with AWS's reason) unless Organizations would store `content`
    as the organization's resource-based delegation policy: IAM's resource-policy grammar
    (INVALID_RESOURCE_POLICY_JSON), AWS principals only (INVALID_PRINCIPAL), Organizations actions
    a member may be delegated (UNSUPPORTED_ACTION_IN_RESOURCE_POLICY), Organizations resources of
    this organization (UNSUPPORTED_RESOURCE_IN_RESOURCE_POLICY) and known policy types in
    organizations:PolicyType conditions (UNSUPPORTED_POLICY_TYPE_IN_RESOURCE_POLICY)."""
    if len(content) > RESOURCE_POLICY_MAX:
        raise _invalid("You provided a string parameter that is longer than allowed.", "MAX_LENGTH_EXCEEDED")
    try:
        validate_policy(content, "resource")
    except MalformedPolicyDocument as e:
        principal = e.message.startswith(("Missing required field Principal", "Invalid principal"))
        reason = "INVALID_PRINCIPAL" if principal else "INVALID_RESOURCE_POLICY_JSON"
        raise _invalid(f"The resource policy is not valid: {e.message}", reason) from None
    statements = load_json(content)["Statement"]
    for statement in statements if isinstance(statements, list) else [statements]:
        _check_statement(statement, management_account_id)


def _check_statement(statement: dict[str, Any], management_account_id: str) -> None:
    if "NotPrincipal" in statement:
        raise _invalid("A delegation policy must name its principals with Principal.", "INVALID_PRINCIPAL")
    for kind, value in principal_entries(statement["Principal"]) or []:
        if kind != "AWS":
            raise _invalid(f"Invalid principal in the resource policy: {kind}:{value}", "INVALID_PRINCIPAL")
    if "NotAction" in statement:
        raise _invalid(
            "NotAction is not supported in a delegation policy.", "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"
        )
    for action in string_values(statement["Action"]) or []:
        if not _delegable_pattern(action):
            raise _invalid(
                f"The action {action} can't be delegated to a member account.",
                "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY",
            )
    if "NotResource" in statement:
        raise _invalid(
            "NotResource is not supported in a delegation policy.", "UNSUPPORTED_RESOURCE_IN_RESOURCE_POLICY"
        )
    for resource in string_values(statement["Resource"]) or []:
        if not _organization_resource(resource, management_account_id):
            raise _invalid(
                f"The resource {resource} is not a resource of this organization.",
                "UNSUPPORTED_RESOURCE_IN_RESOURCE_POLICY",
            )
    for block in (statement.get("Condition") or {}).values():
        for key, values in block.items():
            if key.lower() != _POLICY_TYPE_KEY:
                continue
            for value in values if isinstance(values, list) else [values]:
                if not any(glob_matches(str(value), t) for t in POLICY_TYPES):
                    raise _invalid(
                        f"The policy type {value} can't be delegated.",
                        "UNSUPPORTED_POLICY_TYPE_IN_RESOURCE_POLICY",
                    )


def _delegable_pattern(action: str) -> bool:
    """An exact name must be delegable; a wildcard must name at least one delegable action (only
    those are ever granted: `delegable`)."""
    if not action.lower().startswith("organizations:"):
        return False
    if "*" not in action and "?" not in action:
        return delegable(action)
    return any(glob_matches(action, a) for a in DELEGABLE)


def _organization_resource(resource: str, management_account_id: str) -> bool:
    if resource == "*":
        return True
    match = _ORG_RESOURCE.fullmatch(resource)
    return match is not None and match.group(1) in (management_account_id, "aws")


def grant_document(policy_content: str | None, delegated_admin: str | None) -> str | None:
    """The resource policy a member's request to the organization is judged against: the
    delegation policy's statements, and, for a delegated administrator (its account ID), one more
    that lets its account read the organization. None when neither applies."""
    statements: list[Any] = []
    if policy_content is not None:
        found = load_json(policy_content)["Statement"]
        statements += found if isinstance(found, list) else [found]
    if delegated_admin is not None:
        statements.append(
            {
                "Sid": "DelegatedAdministratorReadOnly",
                "Effect": "Allow",
                "Principal": {"AWS": delegated_admin},
                "Action": sorted(DELEGATED_ADMIN_READS),
                "Resource": "*",
            }
        )
    if not statements:
        return None
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
