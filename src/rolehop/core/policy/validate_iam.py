"""IAM's checks for identity-based policies (managed and inline), session policies,
resource-based policies and SCPs, in the order IAM applies them: the first failure wins.

The order is observable (a document with two faults earns one message) and follows IAM's:
syntax, version, principal, the legacy parser (effect case, dates, ARN fields), Sids,
actions present, ARN format, action names, resources present.
"""

from __future__ import annotations

from typing import Any, Literal

from rolehop.core.policy.validate_rules import (
    CURRENT_VERSION,
    EFFECTS,
    SID_PATTERN,
    STATEMENT_KEYS,
    TOP_KEYS,
    JsonObject,
    action_error,
    condition_dates_ok,
    condition_shape_ok,
    element_values,
    invalid_principal,
    is_version,
    legacy_resource_ok,
    load_object,
    principal_entries,
    principal_value_ok,
    resource_error,
    statement_list,
    string_values,
)

IamKind = Literal["identity", "resource", "scp", "session"]

SYNTAX = "Syntax errors in policy."
OLD_VERSION = "Policy document must be version 2012-10-17 or greater."
LEGACY = "The policy failed legacy parsing"
NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."
MISSING_PRINCIPAL = "Missing required field Principal"
DUPLICATE_SID = "Statement IDs (SID) in a single policy must be unique."
SID_CHARSET = (
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
    "[0-9A-Za-z]*"
)
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."

_EXCLUSIVE = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))
_STRING_ELEMENTS = ("Action", "NotAction", "Resource", "NotResource")


def first_error(document: str, kind: IamKind, *, require_current_version: bool) -> str | None:
    """IAM's message for the first fault in the document, or None when IAM would accept it."""
    doc = load_object(document)
    statements = _well_formed_statements(doc) if doc is not None else None
    if doc is None or statements is None:
        return SYNTAX
    if require_current_version and doc.get("Version") != CURRENT_VERSION:
        return OLD_VERSION
    principal_fault = _principal_error(statements, kind)
    if principal_fault:
        return principal_fault
    if not all(_legacy_statement_ok(s) for s in statements):
        return LEGACY
    legacy_ok, arn_fault = _scan_resources(statements)
    if not legacy_ok:
        return LEGACY
    sid_fault = _sid_error(statements)
    if sid_fault:
        return sid_fault
    if not all(_present(s, "Action", "NotAction") for s in statements):
        return NO_ACTIONS
    if arn_fault:
        return arn_fault
    for key in ("Action", "NotAction"):
        for statement in statements:
            for action in element_values(statement, key):
                action_fault = action_error(action)
                if action_fault:
                    return action_fault
    if not all(_present(s, "Resource", "NotResource") for s in statements):
        return NO_RESOURCES
    return None


def _well_formed_statements(doc: JsonObject) -> list[JsonObject] | None:
    """The statements when the document has IAM's grammar ("Syntax errors in policy."
    otherwise): known keys only, a known Version, a string Id, one or more statements."""
    if not doc.keys() <= TOP_KEYS:
        return None
    if "Version" in doc and not is_version(doc["Version"]):
        return None
    if "Id" in doc and not isinstance(doc["Id"], str):
        return None
    statements = statement_list(doc)
    if not statements or not all(_statement_well_formed(s) for s in statements):
        return None
    return statements


def _statement_well_formed(statement: Any) -> bool:
    if not isinstance(statement, dict) or not statement.keys() <= STATEMENT_KEYS:
        return False
    if any(a in statement and b in statement for a, b in _EXCLUSIVE):
        return False
    effect = statement.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        return False
    if any(k in statement and string_values(statement[k]) is None for k in _STRING_ELEMENTS):
        return False
    if any(k in statement and principal_entries(statement[k]) is None for k in ("Principal", "NotPrincipal")):
        return False
    if "Condition" in statement and not condition_shape_ok(statement["Condition"]):
        return False
    return "Sid" not in statement or isinstance(statement["Sid"], str)


def _principal_error(statements: list[JsonObject], kind: IamKind) -> str | None:
    if kind != "resource":
        has_principal = any("Principal" in s or "NotPrincipal" in s for s in statements)
        return NO_PRINCIPAL_ALLOWED if has_principal else None
    for statement in statements:
        key = "Principal" if "Principal" in statement else "NotPrincipal"
        entries = principal_entries(statement[key]) if key in statement else None
        if not entries:
            return MISSING_PRINCIPAL
        for principal_type, value in entries:
            if not principal_value_ok(principal_type, value, canonical_user=True):
                return invalid_principal(principal_type, value)
    return None


def _legacy_statement_ok(statement: JsonObject) -> bool:
    """IAM's older parser: Effect is case-sensitive and Date* values must parse."""
    if statement["Effect"] not in EFFECTS:
        return False
    return "Condition" not in statement or condition_dates_ok(statement["Condition"])


def _scan_resources(statements: list[JsonObject]) -> tuple[bool, str | None]:
    """(legacy parse passed, the ARN-format message to report later). Of a statement's faulty
    ARNs IAM reports the first in sorted order, and of several faulty statements the last
    (Resource elements before NotResource); the legacy parser sees a statement's ARNs only
    while no format fault has been found."""
    fault: str | None = None
    for key in ("Resource", "NotResource"):
        for statement in statements:
            if key not in statement:
                continue
            values = element_values(statement, key)
            for resource in sorted(values, reverse=True):
                fault = resource_error(resource) or fault
            if fault is None and not all(legacy_resource_ok(r) for r in values):
                return False, None
    return True, fault


def _sid_error(statements: list[JsonObject]) -> str | None:
    sids = [s["Sid"] for s in statements if s.get("Sid")]
    if len(sids) != len(set(sids)):
        return DUPLICATE_SID
    if not all(SID_PATTERN.fullmatch(sid) for sid in sids):
        return SID_CHARSET
    return None


def _present(statement: JsonObject, key: str, negated: str) -> bool:
    return bool(element_values(statement, key) or element_values(statement, negated))
