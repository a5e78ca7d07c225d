"""Organizations' policy types, their quotas, and the syntax of the management policy types' documents
as CreatePolicy and UpdatePolicy check them. Pure: plain values in, a fault (or None) out.

Management policies (tag, backup, AI services opt-out, chat applications, declarative policies for
EC2, and the model's newer types) are JSON objects whose settings are set with inheritance operators
(Organizations User Guide, "Understanding management policy inheritance"):

- a *setting* is an object of value-setting operators: `@@assign` (any setting), `@@append` and
  `@@remove` (multi-valued settings only, so their value is a list);
- a *section* is an object of named keys (sections or settings);
- either may carry `@@operators_allowed_for_child_policies`: a list of `@@all`, `@@none`, or value-
  setting operators (`@@all` and `@@none` stand alone).

Per type (the guide's "... policy syntax" pages): tag policies start with `tags`, each policy key
holding `tag_key` (`@@assign` of a string that matches the policy key but for case), `tag_value`,
`enforced_for` and `report_required_tag_for` (lists of strings; one `*` per tag value; enforcement
names `service:resource`, never every service); backup policies start with `plans`, with the plan,
rule, selection and lifecycle keys of "Backup policy syntax"; AI services opt-out policies start with
`services`, each documented service key (or `default`) holding only `opt_out_policy`, `@@assign` of
`optOut` or `optIn`, and child control limited to `@@assign` / `@@none`; declarative policies for EC2
start with `ec2_attributes` and its documented attributes and values. The chat applications policy
(`chatbot`) and the newer types (Security Hub, Security Hub CSPM, Inspector, upgrade rollout,
Bedrock, S3, Network Security Director, GuardDuty), whose syntax is documented less fully, get the
generic check: a JSON object of sections and settings, known operators, scalar or list values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from rolehop.core.bounded_json import load_json
from rolehop.core.organization import RCP, SCP

TAG_POLICY = "TAG_POLICY"
BACKUP_POLICY = "BACKUP_POLICY"
AI_OPT_OUT_POLICY = "AISERVICES_OPT_OUT_POLICY"
CHATBOT_POLICY = "CHATBOT_POLICY"
DECLARATIVE_EC2_POLICY = "DECLARATIVE_POLICY_EC2"
SECURITYHUB_POLICY = "SECURITYHUB_POLICY"
SECURITYHUB_CSPM_POLICY = "SECURITYHUB_CSPM_POLICY"
INSPECTOR_POLICY = "INSPECTOR_POLICY"
UPGRADE_ROLLOUT_POLICY = "UPGRADE_ROLLOUT_POLICY"
BEDROCK_POLICY = "BEDROCK_POLICY"
S3_POLICY = "S3_POLICY"
NETWORK_SECURITY_DIRECTOR_POLICY = "NETWORK_SECURITY_DIRECTOR_POLICY"
GUARDDUTY_POLICY = "GUARDDUTY_POLICY"

AUTHORIZATION_POLICY_TYPES = (SCP, RCP)
MANAGEMENT_POLICY_TYPES = (
    TAG_POLICY,
    BACKUP_POLICY,
    AI_OPT_OUT_POLICY,
    CHATBOT_POLICY,
    DECLARATIVE_EC2_POLICY,
    SECURITYHUB_POLICY,
    SECURITYHUB_CSPM_POLICY,
    INSPECTOR_POLICY,
    UPGRADE_ROLLOUT_POLICY,
    BEDROCK_POLICY,
    S3_POLICY,
    NETWORK_SECURITY_DIRECTOR_POLICY,
    GUARDDUTY_POLICY,
)
POLICY_TYPES = AUTHORIZATION_POLICY_TYPES + MANAGEMENT_POLICY_TYPES

# --- quotas ("Quotas for AWS Organizations"); a type the page does not list gets its siblings' ---

_CONTENT_MAX = {SCP: 5120, RCP: 5120, AI_OPT_OUT_POLICY: 2500}
CONTENT_MAX: Mapping[str, int] = MappingProxyType({t: _CONTENT_MAX.get(t, 10_000) for t in POLICY_TYPES})
POLICIES_MAX: Mapping[str, int] = MappingProxyType({t: 10_000 if t == SCP else 1000 for t in POLICY_TYPES})
_ATTACHED_MAX = {SCP: 5, RCP: 5, AI_OPT_OUT_POLICY: 5}
# policies of one type attached directly to one root, OU or account (inherited ones don't count)
ATTACHED_MAX: Mapping[str, int] = MappingProxyType({t: _ATTACHED_MAX.get(t, 10) for t in POLICY_TYPES})

# --- operators ---------------------------------------------------------------------------------

ASSIGN = "@@assign"
APPEND = "@@append"
REMOVE = "@@remove"
VALUE_OPERATORS = (ASSIGN, APPEND, REMOVE)
CHILD_CONTROL = "@@operators_allowed_for_child_policies"
ALL_OPERATORS = "@@all"
NO_OPERATORS = "@@none"
OPERATORS = frozenset({*VALUE_OPERATORS, CHILD_CONTROL})


def allowed_operators(child_control: Any) -> frozenset[str]:
    """The value-setting operators a `@@operators_allowed_for_child_policies` list allows."""
    values = child_control if isinstance(child_control, list) else [child_control]
    if ALL_OPERATORS in values:
        return frozenset(VALUE_OPERATORS)
    return frozenset(v for v in values if v in VALUE_OPERATORS)


# --- schemas -----------------------------------------------------------------------------------

ValueKind = Literal["string", "strings", "integer", "boolean"]


@dataclass(frozen=True, slots=True)
class Setting:
    """A setting: `kind` of value, the operators it takes, and (for strings) the values allowed."""

    kind: ValueKind
    operators: frozenset[str] = frozenset(VALUE_OPERATORS)
    values: frozenset[str] = frozenset()
    bounds: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A section: its documented keys, the schema of keys the author names (`each`: plans, rules,
    tag keys...; GENERIC when any content goes), and the keys each instance must hold."""

    fields: Mapping[str, Schema] = field(default_factory=lambda: MappingProxyType({}))
    each: Schema | Literal["closed"] = "closed"
    required: tuple[str, ...] = ()


class Generic:
    """Any sections and settings: known operators, scalar or list values."""


GENERIC = Generic()
Schema = Setting | Section | Generic


def _section(
    required: tuple[str, ...] = (), each: Schema | Literal["closed"] = "closed", **fields: Schema
) -> Section:
    return Section(MappingProxyType(fields), each, required)


def _one_of(*values: str) -> Setting:
    return Setting("string", frozenset({ASSIGN}), frozenset(values))


_STRING = Setting("string", frozenset({ASSIGN}))
_INTEGER = Setting("integer", frozenset({ASSIGN}))
_BOOLEAN = Setting("boolean", frozenset({ASSIGN}))
_STRINGS = Setting("strings")

_TAGS = _section(
    tags=_section(
        each=_section(
            tag_key=_STRING,
            tag_value=_STRINGS,
            enforced_for=_STRINGS,
            report_required_tag_for=_STRINGS,
        )
    )
)

# "to_delete_after_days" is what the guide's own backup examples write for delete_after_days
_LIFECYCLE = _section(
    move_to_cold_storage_after_days=_INTEGER,
    delete_after_days=_INTEGER,
    to_delete_after_days=_INTEGER,
    opt_in_to_archive_for_supported_resources=_BOOLEAN,
)
_TAG_PAIR = _section(tag_key=_STRING, tag_value=GENERIC)
_RULE = _section(
    schedule_expression=_STRING,
    schedule_expression_timezone=_STRING,
    start_backup_window_minutes=_INTEGER,
    complete_backup_window_minutes=_INTEGER,
    enable_continuous_backup=_BOOLEAN,
    target_backup_vault_name=_STRING,
    target_logically_air_gapped_backup_vault_arn=_STRING,
    recovery_point_tags=_section(each=_TAG_PAIR),
    lifecycle=_LIFECYCLE,
    copy_actions=_section(each=_section(target_backup_vault_arn=_STRING, lifecycle=_LIFECYCLE)),
    index_actions=GENERIC,
    scan_actions=GENERIC,
)
_BACKUP = _section(
    plans=_section(
        each=_section(
            regions=_STRINGS,
            rules=_section(each=_RULE),
            selections=_section(
                tags=_section(each=_section(iam_role_arn=_STRING, tag_key=_STRING, tag_value=_STRINGS)),
                resources=_section(each=GENERIC),
            ),
            advanced_backup_settings=_section(each=_section(windows_vss=_one_of("enabled", "disabled"))),
            backup_plan_tags=_section(each=_section(tag_key=_STRING, tag_value=_STRING)),
            scan_settings=GENERIC,
        )
    )
)

# the service name keys of "AI services opt-out policy syntax" (`default`: every AI service, present
# and future)
AI_SERVICES = (
    "default",
    "aidevops",
    "aiops",
    "awssupplychain",
    "chimesdkvoiceanalytics",
    "cloudwatch",
    "codeguruprofiler",
    "codewhisperer",
    "comprehend",
    "connectamd",
    "connectoptimization",
    "contactlens",
    "datazone",
    "frauddetector",
    "guardduty",
    "lex",
    "polly",
    "q",
    "quicksightq",
    "rekognition",
    "securitylake",
    "supplychain",
    "textract",
    "transcribe",
    "translate",
)
_AI_SERVICE = _section(required=("opt_out_policy",), opt_out_policy=_one_of("optOut", "optIn"))
_AI = _section(services=Section(MappingProxyType(dict.fromkeys(AI_SERVICES, _AI_SERVICE))))

_EC2 = _section(
    ec2_attributes=_section(
        exception_message=_STRING,
        vpc_block_public_access=_section(
            internet_gateway_block=_section(
                mode=_one_of("off", "block_ingress", "block_bidirectional"),
                exclusions_allowed=_one_of("enabled", "disabled"),
            )
        ),
        serial_console_access=_section(status=_one_of("enabled", "disabled")),
        image_block_public_access=_section(state=_one_of("unblocked", "block_new_sharing")),
        allowed_images_settings=_section(
            state=_one_of("enabled", "disabled", "audit_mode"), image_criteria=_section(each=GENERIC)
        ),
        instance_metadata_defaults=_section(
            http_tokens=_one_of("no_preference", "required", "optional"),
            http_put_response_hop_limit=Setting("integer", frozenset({ASSIGN}), bounds=(-1, 64)),
            http_endpoint=_one_of("no_preference", "enabled", "disabled"),
            instance_metadata_tags=_one_of("no_preference", "enabled", "disabled"),
        ),
        snapshot_block_public_access=_section(
            state=_one_of("unblocked", "block_new_sharing", "block_all_sharing")
        ),
    )
)

SCHEMAS: Mapping[str, Schema] = MappingProxyType(
    {
        TAG_POLICY: _TAGS,
        BACKUP_POLICY: _BACKUP,
        AI_OPT_OUT_POLICY: _AI,
        CHATBOT_POLICY: _section(chatbot=GENERIC),
        DECLARATIVE_EC2_POLICY: _EC2,
    }
)
# child control each type admits (AI services opt-out policies: `@@assign` or `@@none` only)
_CHILD_CONTROL_VALUES: Mapping[str, frozenset[str]] = MappingProxyType(
    {AI_OPT_OUT_POLICY: frozenset({ASSIGN, NO_OPERATORS})}
)
_ANY_CHILD_CONTROL = frozenset({*VALUE_OPERATORS, ALL_OPERATORS, NO_OPERATORS})


# --- validation --------------------------------------------------------------------------------


def management_policy_fault(policy_type: str, document: str) -> str | None:
    """Why Organizations refuses `document` as a policy of the management type `policy_type`, or
    None when it would store it."""
    try:
        doc = load_json(document)
    except ValueError:
        return "The policy document is not valid JSON."
    if not isinstance(doc, dict) or not doc:
        return "A policy document is a JSON object of sections and settings."
    schema = SCHEMAS.get(policy_type, GENERIC)
    if isinstance(schema, Section):
        missing = [k for k in schema.fields if k not in doc]
        if len(missing) == len(schema.fields):
            return f"A {policy_type} document starts with the key {missing[0]!r}."
    check = _Check(_CHILD_CONTROL_VALUES.get(policy_type, _ANY_CHILD_CONTROL))
    fault = check.node(doc, schema, "", top=True)
    if fault is None and policy_type in _EXTRA_CHECKS:
        fault = _EXTRA_CHECKS[policy_type](doc)
    return fault


@dataclass(frozen=True, slots=True)
class _Check:
    child_control: frozenset[str]

    def node(self, value: Any, schema: Schema, path: str, *, top: bool = False) -> str | None:
        where = path or "the document"
        if not isinstance(value, dict):
            return f"{where}: a section or setting is a JSON object (settings use inheritance operators)."
        keys = [k for k in value if not k.startswith("@@")]
        operators = [k for k in value if k.startswith("@@")]
        unknown = [k for k in operators if k not in OPERATORS]
        if unknown:
            return f"{where}: {unknown[0]} is not an inheritance operator."
        if CHILD_CONTROL in value:
            fault = self.child_control_fault(value[CHILD_CONTROL], where)
            if fault:
                return fault
        setting = [k for k in operators if k in VALUE_OPERATORS]
        if top and (setting or CHILD_CONTROL in value):
            return "The top of a policy document holds its sections, not operators."
        if isinstance(schema, Setting) or (isinstance(schema, Generic) and setting):
            return self.setting(value, keys, setting, schema, where)
        if setting:
            return f"{where}: is a section; {setting[0]} applies to settings only."
        if isinstance(schema, Section):
            absent = [k for k in schema.required if k not in value]
            if absent:
                return f"{where}: must contain {absent[0]!r}."
        for key in keys:
            if not key.strip():
                return f"{where}: a key can't be empty."
            child = _child(schema, key)
            if child is None:
                return f"{where}: {key!r} is not a key of this policy type here."
            fault = self.node(value[key], child, f"{path}.{key}" if path else key)
            if fault:
                return fault
        return None

    def child_control_fault(self, values: Any, where: str) -> str | None:
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            return f"{where}: {CHILD_CONTROL} takes a non-empty list of operators."
        wrong = [v for v in values if v not in self.child_control]
        if wrong:
            return f"{where}: {wrong[0]!r} is not allowed in {CHILD_CONTROL}."
        if len(values) > 1 and {ALL_OPERATORS, NO_OPERATORS} & set(values):
            return f"{where}: {ALL_OPERATORS} and {NO_OPERATORS} stand alone in {CHILD_CONTROL}."
        return None

    def setting(
        self, value: dict[str, Any], keys: list[str], operators: list[str], schema: Schema, where: str
    ) -> str | None:
        if keys:
            return f"{where}: a setting holds inheritance operators only, not {keys[0]!r}."
        if ASSIGN in operators and len(operators) > 1:
            return f"{where}: {ASSIGN} can't be combined with {APPEND} or {REMOVE}."
        for operator in operators:
            fault = _value_fault(operator, value[operator], schema, where)
            if fault:
                return fault
        return None


def _child(schema: Schema, key: str) -> Schema | None:
    if isinstance(schema, Generic):
        return GENERIC
    if isinstance(schema, Setting):
        return None
    if key in schema.fields:
        return schema.fields[key]
    return None if schema.each == "closed" else schema.each


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _value_fault(operator: str, value: Any, schema: Schema, where: str) -> str | None:
    if isinstance(schema, Generic):
        if operator != ASSIGN and not isinstance(value, list):
            return f"{where}: {operator} applies to multi-valued settings: its value is a list."
        items = value if isinstance(value, list) else [value]
        if not all(_is_scalar(v) for v in items):
            return f"{where}: {operator} takes a string, number or boolean, or a list of them."
        return None
    assert isinstance(schema, Setting)
    if operator not in schema.operators:
        return f"{where}: takes only {', '.join(sorted(schema.operators))}."
    if schema.kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{where}: {operator} takes a list of strings."
        return _enum_fault(value, schema, where)
    if operator != ASSIGN:
        return f"{where}: {operator} applies to multi-valued settings only."
    return _scalar_fault(value, schema, where)


def _scalar_fault(value: Any, schema: Setting, where: str) -> str | None:
    if schema.kind == "string":
        if not isinstance(value, str):
            return f"{where}: {ASSIGN} takes a string."
        return _enum_fault([value], schema, where)
    if schema.kind == "integer":
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value):
            number = int(value)
        if number is None:
            return f"{where}: {ASSIGN} takes a whole number."
        if schema.bounds and not (schema.bounds[0] <= number <= schema.bounds[1] and number != 0):
            return f"{where}: {number} is out of range."
        return None
    if not (isinstance(value, bool) or value in ("true", "false")):
        return f"{where}: {ASSIGN} takes true or false."
    return None


def _enum_fault(values: list[str], schema: Setting, where: str) -> str | None:
    if schema.values:
        wrong = [v for v in values if v not in schema.values]
        if wrong:
            return f"{where}: {wrong[0]!r} is not one of {', '.join(sorted(schema.values))}."
    return None


# --- checks beyond the shape -------------------------------------------------------------------

_ENFORCED_FOR = re.compile(r"[a-z0-9-]+:[A-Za-z0-9_*:/.-]+")


def _tag_policy_fault(doc: dict[str, Any]) -> str | None:
    """Tag policy syntax: the policy key matches its tag key but for case (it is case-insensitive);
    tag keys are 1-128 characters, tag values up to 256 with one `*` at most; `enforced_for` names
    `service:resource` (`service:*` for all of a service's resources), never every service."""
    for policy_key, entry in doc["tags"].items():
        if not isinstance(entry, dict):
            continue
        assigned = entry.get("tag_key", {}).get(ASSIGN)
        if isinstance(assigned, str):
            if not 1 <= len(assigned) <= 128:
                return f"tags.{policy_key}.tag_key: a tag key is 1 to 128 characters."
            if assigned.lower() != policy_key.lower():
                return f"tags.{policy_key}.tag_key: {assigned!r} must match the policy key {policy_key!r}."
        for operator in VALUE_OPERATORS:
            for value in entry.get("tag_value", {}).get(operator, []):
                if len(value) > 256 or value.count("*") > 1:
                    return f"tags.{policy_key}.tag_value: {value!r}: up to 256 characters, one '*' at most."
            for element in ("enforced_for", "report_required_tag_for"):
                for value in entry.get(element, {}).get(operator, []):
                    if not _ENFORCED_FOR.fullmatch(value):
                        return f"tags.{policy_key}.{element}: {value!r} is not service:resource."
    return None


_EXTRA_CHECKS: Mapping[str, Callable[[dict[str, Any]], str | None]] = MappingProxyType(
    {TAG_POLICY: _tag_policy_fault}
)
