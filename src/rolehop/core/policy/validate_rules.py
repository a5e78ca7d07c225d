"""Element-level rules shared by every policy kind: JSON shapes, condition operators and
values, action names, resource ARNs and principals.

Each rule answers a yes/no question or returns IAM's message; which message a failure earns,
and in what order the rules run, is the business of the per-family modules
(`validate_iam`, `validate_trust`).
"""

from __future__ import annotations

import re
from typing import Any

from rolehop.core.bounded_json import load_json

JsonObject = dict[str, Any]

VERSIONS = ("2008-10-17", "2012-10-17")
TOP_KEYS = frozenset({"Version", "Id", "Statement"})
STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource"}
    | {"Condition"}
)
CURRENT_VERSION = "2012-10-17"
EFFECTS = ("Allow", "Deny")

# Every operator AWS documents (IAM User Guide, "IAM JSON policy elements: Condition operators").
CONDITION_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    }
)
SET_QUALIFIERS = ("ForAnyValue:", "ForAllValues:")
IF_EXISTS = "IfExists"

PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc", "*"}
)
IAM_RESOURCE_PREFIXES = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)

# Actions a role trust policy may name (IAM User Guide, "Role trust policies").
TRUST_ACTIONS = (
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
)

SID_PATTERN = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[A-Za-z0-9.\-]+")
_DIGITS = re.compile(r"[0-9]+")
_MAX_EPOCH = 2**63 - 1
_MIN_YEAR, _MAX_YEAR = -292275054, 292278993  # the range of a Java long in milliseconds

# --- messages IAM returns for single elements (IAM's wording, kept verbatim) ---------------
VENDOR_REQUIRED = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
VENDOR_NOT_QUALIFIED = "Resource vendor must be fully qualified and cannot contain regexes."
IAM_PATH = 'IAM resource path must either be "*" or start with ' + ", ".join(IAM_RESOURCE_PREFIXES) + "."


# --- JSON shapes ------------------------------------------------------------------------------


def load_object(document: str) -> JsonObject | None:
    """The document as a JSON object, or None when it is not JSON (NaN and Infinity are not), nests
    deeper than any policy can (bounded_json.MAX_DEPTH), or is not an object."""
    try:
        value = load_json(document)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def statement_list(doc: JsonObject) -> list[Any] | None:
    """`Statement` as a list (a lone object counts as one statement); None when absent or of
    the wrong type."""
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        return [statements]
    if isinstance(statements, list):
        return statements
    return None


def string_values(value: Any) -> list[str] | None:
    """An Action/NotAction/Resource/NotResource value: a string or a list of strings, in which
    IAM ignores JSON nulls. None when the value has another shape."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
        return [v for v in value if v is not None]
    return None


def element_values(statement: JsonObject, key: str) -> list[str]:
    """The strings of an element already known to be well-shaped ([] when absent)."""
    return (string_values(statement[key]) or []) if key in statement else []


def is_version(value: Any) -> bool:
    return isinstance(value, str) and value in VERSIONS


# --- conditions -------------------------------------------------------------------------------


def base_operator(name: str) -> str | None:
    """The operator without its `ForAnyValue:`/`ForAllValues:` qualifier and `IfExists`
    suffix, or None when it is not an operator AWS documents (`NullIfExists` is not: AWS
    allows IfExists on every operator except Null)."""
    for qualifier in SET_QUALIFIERS:
        if name.startswith(qualifier):
            name = name[len(qualifier) :]
            break
    if_exists = name.endswith(IF_EXISTS)
    if if_exists:
        name = name[: -len(IF_EXISTS)]
    if name not in CONDITION_OPERATORS or (if_exists and name == "Null"):
        return None
    return name


def _is_scalar(value: Any) -> bool:
    # JSON strings, booleans and numbers ({"Bool": {"k": true}} is as valid as "true")
    return isinstance(value, str | bool | int | float)


def _condition_value_ok(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_scalar(v) for v in value)
    return _is_scalar(value)


def condition_shape_ok(block: Any) -> bool:
    """`Condition` is an object of operator -> object of key -> value(s). An operator AWS does
    not document is refused unless its block is empty (IAM accepts `{"Foo": {}}`, which can
    never match anything)."""
    if not isinstance(block, dict):
        return False
    for operator, entries in block.items():
        if not isinstance(entries, dict) or not all(_condition_value_ok(v) for v in entries.values()):
            return False
        if entries and base_operator(operator) is None:
            return False
    return True


def condition_dates_ok(block: JsonObject) -> bool:
    """Every value under a Date* operator parses as IAM parses dates (the "legacy parsing" step)."""
    for operator, entries in block.items():
        base = base_operator(operator)
        if base is None or not base.startswith("Date"):
            continue
        for value in entries.values():
            for item in value if isinstance(value, list) else [value]:
                if not date_value_ok(item):
                    return False
    return True


def date_value_ok(value: Any) -> bool:
    """An ISO 8601 date/date-time (any prefix of one: `2020`, `2020-01-01T10`, zone `Z` or
    `±HH[:MM]`) or epoch milliseconds as a non-negative long."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return False
    if isinstance(value, int):
        return 0 <= value <= _MAX_EPOCH
    text = value.lower()
    if "t" in text or "-" in text:
        return _iso_datetime_ok(text)
    return _DIGITS.fullmatch(text) is not None and int(text) <= _MAX_EPOCH


def _in_range(text: str, low: int, high: int) -> bool:
    return _DIGITS.fullmatch(text) is not None and low <= int(text) <= high


def _iso_datetime_ok(text: str) -> bool:
    date, _, time = text.partition("t")
    sign = -1 if date.startswith("-") else 1
    fields = date.lstrip("-").split("-") if sign < 0 else date.split("-")
    if len(fields) > 3 or _DIGITS.fullmatch(fields[0]) is None:
        return False
    if not _MIN_YEAR <= sign * int(fields[0]) <= _MAX_YEAR:
        return False
    if len(fields) > 1 and not _in_range(fields[1], 1, 12):
        return False
    if len(fields) > 2 and not _in_range(fields[2], 1, 31):
        return False
    return _iso_time_ok(time)


def _iso_time_ok(time: str) -> bool:
    zone_at = next((i for i, c in enumerate(time) if c in "z+-"), len(time))
    clock, zone = time[:zone_at], time[zone_at:]
    if zone and not _zone_ok(zone):
        return False
    if not clock:
        return True
    fields = clock.split(":")
    if len(fields) > 3 or not _in_range(fields[0], 0, 23):
        return False
    if len(fields) > 1 and not _in_range(fields[1], 0, 59):
        return False
    if len(fields) > 2:
        seconds, dot, fraction = fields[2].partition(".")
        if not _in_range(seconds, 0, 59) or (dot and not _in_range(fraction, 0, 999_999_999)):
            return False
    return True


def _zone_ok(zone: str) -> bool:
    if zone == "z":
        return True
    hours, colon, minutes = zone[1:].partition(":")
    if zone[0] not in "+-" or len(hours) != 2 or not _in_range(hours, 0, 23):
        return False
    return not colon or (len(minutes) == 2 and _in_range(minutes, 0, 59))


# --- actions ----------------------------------------------------------------------------------


def action_error(action: str) -> str | None:
    """IAM's message for a malformed action name (`vendor:Action`, wildcards allowed in the
    name; the vendor is letters, digits, '.' and '-', or '*')."""
    if action == "*":
        return None
    parts = action.split(":")
    if len(parts) == 1 or not parts[0]:
        return VENDOR_REQUIRED
    if len(parts) > 2:
        return ONE_COLON
    vendor = parts[0]
    if vendor != "*" and _VENDOR.fullmatch(vendor) is None:
        return f"Vendor {vendor} is not valid"
    return None


def glob_matches(pattern: str, value: str) -> bool:
    """Case-insensitive IAM wildcard match (`*` any run, `?` one character)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def is_trust_action(action: str) -> bool:
    """`*`, or an `sts:` action (wildcards allowed) that names at least one AssumeRole-family
    action."""
    if action == "*":
        return True
    return action.lower().startswith("sts:") and any(glob_matches(action, a) for a in TRUST_ACTIONS)


# --- resources --------------------------------------------------------------------------------


def resource_error(resource: str) -> str | None:
    """IAM's message for a resource that is not `*` or a well-formed ARN. IAM reads the
    resource as `prefix:partition:service:region:account:rest`, filling missing fields with
    `*`; an empty service is left to `legacy_resource_ok`."""
    if resource == "*":
        return None
    if ":" not in resource:
        return f'Resource {resource} must be in ARN format or "*".'
    parts = resource.split(":", 5)
    partition, fields = parts[1], parts[2:]
    if partition not in PARTITIONS:
        return _bad_partition(partition, fields)
    if not fields or "*" in fields[0] or "?" in fields[0]:
        return VENDOR_NOT_QUALIFIED
    service = fields[0]
    # an ARN that stops right after the service counts as carrying a region
    region = fields[1] if len(fields) > 1 else "*"
    account = fields[2] if len(fields) > 2 else ""
    path = fields[3] if len(fields) > 3 else ""
    if service == "iam":
        if region:
            return f"IAM resource {resource} cannot contain region information."
        if path != "*" and not path.startswith(IAM_RESOURCE_PREFIXES):
            return IAM_PATH
    if service == "s3" and region and not account:
        # S3 ARNs carry a region only together with an account (access points)
        return f"Resource {resource} can not contain region information."
    return None


def _bad_partition(partition: str, fields: list[str]) -> str:
    service = fields[0] if fields and (fields[0] or len(fields) > 1) else "*"
    region, account, rest = (fields[i] if len(fields) > i else "*" for i in (1, 2, 3))
    normalized = f"arn:{partition}:{service}:{region}:{account}:{rest}"
    return f'Partition "{partition}" is not valid for resource "{normalized}".'


def legacy_resource_ok(resource: str) -> bool:
    """IAM's older parser also refuses `::` in an ARN of fewer than six fields and an empty
    service (`arn:aws::…`)."""
    if resource == "*":
        return True
    if resource.count(":") < 5 and "::" in resource:
        return False
    parts = resource.split(":")
    return len(parts) < 3 or parts[2] != ""


# --- principals -------------------------------------------------------------------------------

_NAME = r"[\w+=,.@-]+"
_ACCOUNT = r"[0-9]{12}"
_PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?"
_AWS_PRINCIPAL = re.compile(
    rf"{_ACCOUNT}|arn:{_PARTITION}:(?:iam::{_ACCOUNT}:(?:root|(?:user|role)(?:/{_NAME})+)"
    rf"|sts::{_ACCOUNT}:(?:assumed-role/{_NAME}/{_NAME}|federated-user/{_NAME}))"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_FEDERATED_ARN = re.compile(rf"arn:{_PARTITION}:iam::{_ACCOUNT}:(?:saml-provider/{_NAME}|oidc-provider/\S+)")
_CANONICAL_USER = re.compile(r"[0-9a-f]{64}")
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


def principal_entries(principal: Any) -> list[tuple[str, str]] | None:
    """`Principal`/`NotPrincipal` as (type, value) pairs, with `"*"` as ("AWS", "*"); None when
    it is neither `"*"` nor an object of type -> string or list of strings."""
    if principal == "*":
        return [("AWS", "*")]
    if not isinstance(principal, dict):
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in principal.items():
        values = string_values(value)
        if values is None:
            return None
        pairs.extend((key, v) for v in values)
    return pairs


def principal_value_ok(key: str, value: str, *, canonical_user: bool) -> bool:
    """The shape of one principal; whether the account, user or role exists is the caller's
    business. AWS refuses partial wildcards (`arn:aws:iam::111122223333:role/*`)."""
    if key == "AWS":
        return value == "*" or _AWS_PRINCIPAL.fullmatch(value) is not None
    if key == "Service":
        return value.islower() and _HOSTNAME.fullmatch(value) is not None
    if key == "Federated":
        return _FEDERATED_ARN.fullmatch(value) is not None or _HOSTNAME.fullmatch(value) is not None
    if key == "CanonicalUser":
        return canonical_user and _CANONICAL_USER.fullmatch(value) is not None
    return False


def invalid_principal(key: str, value: str) -> str:
    return f'Invalid principal in policy: "{key.upper()}":"{value}"'
