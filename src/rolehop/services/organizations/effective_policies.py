"""Effective management policies: DescribeEffectivePolicy, ListAccountsWithInvalidEffectivePolicy,
ListEffectivePolicyValidationErrors.

The store walk is here (the policies of one type attached to the root, each OU down the account's
path, and the account: pipeline.control_policies.chain); the merge and its validation errors are
core.effective_policy's. An account of the organization may ask for its own effective policy; the
management account for any member's. A policy type not enabled in the root, or one no policy of
which reaches the account, has no effective policy (EffectivePolicyNotFoundException). Policies
attached to one target merge in the order the store lists them (by name): rolehop keeps no time of
attachment (docs/decisions.md).
"""

from __future__ import annotations

import json
from typing import Any

from rolehop.core.bounded_json import load_json
from rolehop.core.effective_policy import Attached, EffectivePolicy, effective_policy
from rolehop.core.errors import (
    AccountNotFoundException,
    EffectivePolicyNotFoundException,
    InvalidInputException,
    TargetNotFoundException,
)
from rolehop.core.ids import is_account_id
from rolehop.core.org_policy_syntax import MANAGEMENT_POLICY_TYPES
from rolehop.core.organization import Organization
from rolehop.services.organizations.accounts import account_shape
from rolehop.services.organizations.common import management_only, organization_of_caller
from rolehop.services.organizations.paging import page
from rolehop.services.organizations.roots import policy_type_context
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.control_policies import attached_policies, chain
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx

NOT_FOUND = "We can't find an effective policy of the specified type for the specified account."


def _check_type(policy_type: str) -> None:
    if policy_type not in MANAGEMENT_POLICY_TYPES:
        raise InvalidInputException(
            "You specified an invalid policy type string.", reason="INVALID_ENUM_POLICY_TYPE"
        )


def levels_of(tx: Tx, org: Organization, account_id: str, policy_type: str) -> list[list[Attached]]:
    """The policies of `policy_type` attached at each level from the root to the account."""
    return [
        [Attached(p.policy_id, load_json(p.content)) for p in attached_policies(tx, target, policy_type)]
        for target in chain(tx, org, account_id)
    ]


def effective_of(tx: Tx, org: Organization, account_id: str, policy_type: str) -> EffectivePolicy:
    """The account's effective policy of `policy_type`; EffectivePolicyNotFoundException when the
    type is not enabled or no policy of it reaches the account."""
    if policy_type not in org.policy_types:
        raise EffectivePolicyNotFoundException(NOT_FOUND)
    levels = levels_of(tx, org, account_id, policy_type)
    if not any(levels):
        raise EffectivePolicyNotFoundException(NOT_FOUND)
    return effective_policy(levels, policy_type)


def _member(tx: Tx, account_id: str) -> bool:
    account = tx.get_account(account_id) if is_account_id(account_id) else None
    return account is not None and account.in_organization


@operation("organizations", "DescribeEffectivePolicy")
def describe_effective_policy(call: Call, p: Params) -> Result:
    policy_type = p["PolicyType"]
    context = policy_type_context(policy_type)
    target = p.get("TargetId") or call.caller.account_id
    if target == call.caller.account_id:  # any account of the organization, for itself
        authorize(call, "organizations:DescribeEffectivePolicy", "*", context=context)
    else:  # the management account (or a delegated administrator) for another
        management_only(call, "organizations:DescribeEffectivePolicy", context=context)
    _check_type(policy_type)
    if not is_account_id(target):
        raise InvalidInputException(
            "You can't perform the specified operation on that target entity.", reason="TARGET_NOT_SUPPORTED"
        )
    with call.runtime.store.transaction() as tx:
        org = organization_of_caller(call, tx)
        if not _member(tx, target):
            raise TargetNotFoundException("We can't find a root, OU, account, or email that you specified.")
        effective = effective_of(tx, org, target, policy_type)
    return {
        "EffectivePolicy": {
            "PolicyContent": json.dumps(effective.document, separators=(",", ":")),
            "LastUpdatedTimestamp": call.now,
            "TargetId": target,
            "PolicyType": policy_type,
        }
    }


@operation("organizations", "ListAccountsWithInvalidEffectivePolicy")
def list_accounts_with_invalid_effective_policy(call: Call, p: Params) -> Result:
    policy_type = p["PolicyType"]
    org = management_only(
        call, "organizations:ListAccountsWithInvalidEffectivePolicy", context=policy_type_context(policy_type)
    )
    _check_type(policy_type)
    if policy_type not in org.policy_types:
        raise EffectivePolicyNotFoundException(NOT_FOUND)
    with call.runtime.store.transaction() as tx:
        invalid = []
        for account in tx.list_accounts():
            if not account.in_organization:
                continue
            levels = levels_of(tx, org, account.account_id, policy_type)
            if any(levels) and effective_policy(levels, policy_type).errors:
                invalid.append(account)
    found, more = page(invalid, p, key=lambda a: a.account_id)
    return {"Accounts": [account_shape(org, a, call.now) for a in found], "PolicyType": policy_type, **more}


def _path(tx: Tx, org: Organization, account_id: str) -> str:
    """Where the account sits: o-…/r-…/ou-…/…/ACCOUNT/ (AWS's Path shape)."""
    return "/".join([org.org_id, *chain(tx, org, account_id)]) + "/"


def _error_shape(error: Any) -> dict[str, Any]:
    return {
        "ErrorCode": error.code,
        "ErrorMessage": error.message,
        "PathToError": error.path,
        "ContributingPolicies": list(error.policies),
    }


@operation("organizations", "ListEffectivePolicyValidationErrors")
def list_effective_policy_validation_errors(call: Call, p: Params) -> Result:
    policy_type = p["PolicyType"]
    org = management_only(
        call, "organizations:ListEffectivePolicyValidationErrors", context=policy_type_context(policy_type)
    )
    _check_type(policy_type)
    account_id = p["AccountId"]
    with call.runtime.store.transaction() as tx:
        if not _member(tx, account_id):
            raise AccountNotFoundException(
                "We can't find an AWS account with the AccountId that you specified."
            )
        effective = effective_of(tx, org, account_id, policy_type)
        path = _path(tx, org, account_id)
    numbered = [(f"{i:08d}", e) for i, e in enumerate(effective.errors)]
    found, more = page(numbered, p, key=lambda item: item[0])
    return {
        "AccountId": account_id,
        "PolicyType": policy_type,
        "Path": path,
        "EvaluationTimestamp": call.now,
        "EffectivePolicyValidationErrors": [_error_shape(e) for _, e in found],
        **more,
    }
