"""IAM's checks for role trust policies (CreateRole's AssumeRolePolicyDocument and
UpdateAssumeRolePolicy), which IAM parses apart from permissions policies and answers in
its own words ("This policy contains invalid Json", "Missing required field Principal",
"Has prohibited field Resource"…). Statements are checked in order; the first failure wins.
"""

from __future__ import annotations

from typing import Any

from rolehop.core.policy.validate_rules import (
    EFFECTS,
    STATEMENT_KEYS,
    TOP_KEYS,
    JsonObject,
    condition_dates_ok,
    condition_shape_ok,
    invalid_principal,
    is_trust_action,
    is_version,
    principal_entries,
    principal_value_ok,
    statement_list,
    string_values,
)

INVALID_JSON = "This policy contains invalid Json"
SYNTAX = "Syntax error in policy."
BAD_VERSION = "The policy must contain a valid version string"
EMPTY_STATEMENT = "Could not parse the policy: Statement is empty!"
DUPLICATE_SID = "The Statement Ids in the policy are not unique"
MISSING_EFFECT = "Missing required field Effect"
MISSING_PRINCIPAL = "Missing required field Principal"
EMPTY_PRINCIPAL = "Missing required field Principal cannot be empty!"
PRINCIPAL_NOT_OBJECT = "Principal must be a JSON object."
ALLOW_NOT_PRINCIPAL = "Allow with NotPrincipal is not allowed."
NO_NOT_PRINCIPAL = "AssumeRole policy must not contain NotPrincipal field."
MISSING_ACTION = "Missing required field Action"
NOT_STS_ACTION = "AssumeRole policy may only specify STS AssumeRole actions."
PROHIBITED_RESOURCE = "Has prohibited field Resource"
PROHIBITED_NOT_RESOURCE = "AssumeRole policy must not contain resources."


def first_error(doc: JsonObject | None) -> str | None:
    """IAM's message for the first fault in a parsed trust policy (None: not a JSON object),
    or None when IAM would accept it."""
    if doc is None:
        return INVALID_JSON
    if "Version" in doc and not is_version(doc["Version"]):
        return BAD_VERSION
    if not doc.keys() <= TOP_KEYS or ("Id" in doc and not isinstance(doc["Id"], str)):
        return SYNTAX
    if doc.get("Statement") in (None, [], {}):
        return EMPTY_STATEMENT
    statements = statement_list(doc)
    if statements is None:
        return SYNTAX
    seen: set[str] = set()
    for statement in statements:
        fault = _statement_error(statement)
        if fault:
            return fault
        sid = statement.get("Sid")
        if sid and sid in seen:
            return DUPLICATE_SID
        if sid:
            seen.add(sid)
    return None


def _statement_error(statement: Any) -> str | None:
    if not isinstance(statement, dict) or not statement.keys() <= STATEMENT_KEYS:
        return SYNTAX
    if "Sid" in statement and not isinstance(statement["Sid"], str):
        return SYNTAX
    if "Effect" not in statement:
        return MISSING_EFFECT
    if statement["Effect"] not in EFFECTS:
        return f"Invalid effect: {statement['Effect']}"
    if "NotPrincipal" in statement:
        return ALLOW_NOT_PRINCIPAL if statement["Effect"] == "Allow" else NO_NOT_PRINCIPAL
    fault = _principal_error(statement) or _action_error(statement)
    if fault:
        return fault
    if "Resource" in statement:
        return PROHIBITED_RESOURCE
    if "NotResource" in statement:
        return PROHIBITED_NOT_RESOURCE
    condition = statement.get("Condition", {})
    if not condition_shape_ok(condition) or not condition_dates_ok(condition):
        return SYNTAX
    return None


def _principal_error(statement: JsonObject) -> str | None:
    if "Principal" not in statement:
        return MISSING_PRINCIPAL
    principal = statement["Principal"]
    if principal != "*" and not isinstance(principal, dict):
        return PRINCIPAL_NOT_OBJECT
    entries = principal_entries(principal)
    if entries is None:
        return SYNTAX
    if not entries:
        return EMPTY_PRINCIPAL
    for principal_type, value in entries:
        if not principal_value_ok(principal_type, value, canonical_user=False):
            return invalid_principal(principal_type, value)
    return None


def _action_error(statement: JsonObject) -> str | None:
    if "Action" in statement and "NotAction" in statement:
        return SYNTAX
    key = "Action" if "Action" in statement else "NotAction"
    actions = string_values(statement[key]) if key in statement else []
    if actions is None:
        return SYNTAX
    if not actions:
        return MISSING_ACTION
    if not all(is_trust_action(a) for a in actions):
        return NOT_STS_ACTION
    return None
