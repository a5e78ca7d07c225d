"""Effective management policies: the policies of one management type attached to the root, to each
OU down the path, and to the account, merged into the one document that applies to the account, as
the Organizations User Guide describes it ("Understanding management policy inheritance",
"Inheritance operators", "Inheritance examples"). Pure: parsed documents in, a document and its
validation errors out.

- Levels merge from the root down. `@@assign` overwrites what is inherited (a list replaces the
  inherited list), `@@append` adds values to an inherited list (or starts one), `@@remove` takes
  values out of it; a list left empty, and a section left without settings, are not shown.
- `@@operators_allowed_for_child_policies` at a node limits the value-setting operators that
  policies lower in the tree may use at that node; on a section, `@@none` also stops them adding
  keys under it. Limits only narrow: levels intersect them, as do policies attached at one level
  (example 5). A child's operation its parents disallow is left out of the effective policy (example
  4) and reported as a validation error.
- Policies attached at one level apply in the order given (AWS: the order of attachment); of two
  `@@assign`s of one setting at one level the first stands (example 6).
- Keys match whatever their case (the guide: a tag policy's policy key "is not case sensitive"); the
  effective policy spells a key as the highest policy that introduced it.

Validation errors (ListEffectivePolicyValidationErrors) are rolehop's reading of "fails validation
checks, resulting in the effective policy not being fully enforced": an operation a parent policy
disallowed (OPERATOR_NOT_ALLOWED), and for backup policies a plan lacking what "Backup policy
syntax" says a complete plan needs, or a lifecycle that deletes a recovery point less than 90 days
after it reaches cold storage; for AI services opt-out policies a service left without its
`opt_out_policy` (ELEMENTS_MISSING, LIFECYCLE_NOT_VALID).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rolehop.core.org_policy_syntax import (
    AI_OPT_OUT_POLICY,
    APPEND,
    ASSIGN,
    BACKUP_POLICY,
    CHILD_CONTROL,
    REMOVE,
    VALUE_OPERATORS,
    allowed_operators,
)

OPERATOR_NOT_ALLOWED = "OPERATOR_NOT_ALLOWED"
ELEMENTS_MISSING = "ELEMENTS_MISSING"
LIFECYCLE_NOT_VALID = "LIFECYCLE_NOT_VALID"
_EVERY_OPERATOR = frozenset(VALUE_OPERATORS)
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Attached:
    """One policy attached at a level: its ID and its parsed document."""

    policy_id: str
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PolicyError:
    """A reason the effective policy is not fully enforced: AWS's EffectivePolicyValidationError."""

    code: str
    message: str
    path: str
    policies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    document: dict[str, Any]
    errors: tuple[PolicyError, ...]


class _Node:
    """A key of the merged document: a section (children) or a setting (value)."""

    __slots__ = ("allowed", "assigned_at", "children", "key", "limited_by", "sources", "value")

    def __init__(self, key: str) -> None:
        self.key = key
        self.children: dict[str, _Node] = {}
        self.value: Any = _UNSET
        self.allowed: frozenset[str] = _EVERY_OPERATOR  # what lower levels may do here
        self.limited_by: list[tuple[str, frozenset[str]]] = []  # the policies that limited it, and how
        self.assigned_at = -1  # the level of the last @@assign
        self.sources: list[str] = []  # the policies that set its value


@dataclass(slots=True)
class _Limit:
    node: _Node
    allowed: frozenset[str]
    policies: list[tuple[str, frozenset[str]]]


class _Merge:
    def __init__(self) -> None:
        self.root = _Node("")
        self.errors: list[PolicyError] = []
        self.level = 0
        self.limits: dict[int, _Limit] = {}  # set at this level, binding the levels below

    def level_of(self, policies: Sequence[Attached]) -> None:
        self.limits = {}
        for policy in policies:
            self.apply(self.root, policy.document, policy.policy_id, ())
        for limit in self.limits.values():
            limit.node.allowed &= limit.allowed
            limit.node.limited_by += limit.policies
        self.level += 1

    def apply(self, node: _Node, source: Any, policy_id: str, path: tuple[str, ...]) -> None:
        if not isinstance(source, Mapping):
            return  # stored documents passed syntax checks; anything else has nothing to merge
        if CHILD_CONTROL in source:
            allowed = allowed_operators(source[CHILD_CONTROL])
            limit = self.limits.setdefault(id(node), _Limit(node, _EVERY_OPERATOR, []))
            limit.allowed &= allowed
            if allowed != _EVERY_OPERATOR:
                limit.policies.append((policy_id, allowed))
        for operator in VALUE_OPERATORS:
            if operator not in source:
                continue
            if operator not in node.allowed:
                self.refuse(
                    node, operator, policy_id, path, f"A parent policy doesn't allow {operator} here."
                )
                continue
            self.set(node, operator, source[operator], policy_id)
        for key, value in source.items():
            if key.startswith("@@"):
                continue
            child = node.children.get(key.lower())
            if child is None:
                if not node.allowed:
                    where = _dotted(path) or "the top"
                    message = f"A parent policy allows no new keys under {where}."
                    self.refuse(node, None, policy_id, (*path, key), message)
                    continue
                child = node.children[key.lower()] = _Node(key)
            self.apply(child, value, policy_id, (*path, child.key))

    def set(self, node: _Node, operator: str, value: Any, policy_id: str) -> None:
        if operator == ASSIGN:
            if node.assigned_at == self.level:
                return  # an earlier policy of this level assigned it: the first attached stands
            node.value = list(value) if isinstance(value, list) else value
            node.assigned_at = self.level
            node.sources = [policy_id]
            return
        values = value if isinstance(value, list) else [value]
        current = node.value
        if operator == APPEND:
            base = [] if current is _UNSET else list(current) if isinstance(current, list) else [current]
            node.value = base + [v for v in values if v not in base]
        elif operator == REMOVE and isinstance(current, list):
            node.value = [v for v in current if v not in values]
        elif operator == REMOVE and current in values:
            node.value = _UNSET
        if policy_id not in node.sources:
            node.sources.append(policy_id)

    def refuse(
        self, node: _Node, operator: str | None, policy_id: str, path: tuple[str, ...], message: str
    ) -> None:
        """Record a child's operation its parents disallow (`operator` None: adding a key), with the
        child and the parent policies whose limit excludes it."""
        limiting = [
            p for p, allowed in node.limited_by if (operator not in allowed if operator else not allowed)
        ]
        policies = tuple(dict.fromkeys([policy_id, *limiting]))
        self.errors.append(PolicyError(OPERATOR_NOT_ALLOWED, message, _dotted(path), policies))


def _dotted(path: Sequence[str]) -> str:
    return ".".join(path)


def _render(node: _Node) -> Any:
    """The node as the effective policy shows it, or _UNSET when it holds nothing."""
    if node.children:
        shown = {c.key: r for c in node.children.values() if (r := _render(c)) is not _UNSET}
        return shown or _UNSET
    if node.value is _UNSET or node.value == []:
        return _UNSET
    return node.value


def effective_policy(levels: Sequence[Sequence[Attached]], policy_type: str = "") -> EffectivePolicy:
    """The effective policy of `levels` (root first, the account last; each the policies attached
    there, in attachment order) and its validation errors."""
    merge = _Merge()
    for level in levels:
        merge.level_of(level)
    rendered = _render(merge.root)
    document: dict[str, Any] = {} if rendered is _UNSET else rendered
    errors = list(merge.errors)
    if policy_type == BACKUP_POLICY:
        errors += _backup_errors(merge.root)
    elif policy_type == AI_OPT_OUT_POLICY:
        errors += _opt_out_errors(merge.root)
    return EffectivePolicy(document, tuple(errors))


# --- validation of the merged document -----------------------------------------------------------


def _get(node: _Node, key: str) -> _Node | None:
    return node.children.get(key.lower())


def _held(node: _Node | None) -> bool:
    return node is not None and _render(node) is not _UNSET


def _contributors(node: _Node) -> tuple[str, ...]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found += [s for s in current.sources if s not in found]
        stack += current.children.values()
    return tuple(sorted(found))


def _missing(node: _Node, path: tuple[str, ...], needed: Sequence[str], what: str) -> list[PolicyError]:
    absent = [k for k in needed if not _held(_get(node, k))]
    if not absent:
        return []
    return [
        PolicyError(
            ELEMENTS_MISSING,
            f"The {what} lacks {', '.join(absent)}.",
            _dotted(path),
            _contributors(node),
        )
    ]


def _backup_errors(root: _Node) -> list[PolicyError]:
    """A complete plan names its regions, rules (each with a schedule and a vault) and selections
    (each with an IAM role and what to back up); cold storage lasts at least 90 days."""
    plans = _get(root, "plans")
    errors: list[PolicyError] = []
    for plan in plans.children.values() if plans else ():
        where = ("plans", plan.key)
        if _render(plan) is _UNSET:
            continue
        errors += _missing(plan, where, ("regions", "rules", "selections"), f"backup plan {plan.key}")
        rules = _get(plan, "rules")
        for rule in rules.children.values() if rules else ():
            at = (*where, "rules", rule.key)
            errors += _missing(
                rule, at, ("schedule_expression", "target_backup_vault_name"), f"rule {rule.key}"
            )
            errors += _lifecycle_errors(rule, at)
            copies = _get(rule, "copy_actions")
            for copy in copies.children.values() if copies else ():
                errors += _lifecycle_errors(copy, (*at, "copy_actions", copy.key))
        selections = _get(plan, "selections")
        tags = _get(selections, "tags") if selections else None
        for selection in tags.children.values() if tags else ():
            errors += _missing(
                selection,
                (*where, "selections", "tags", selection.key),
                ("iam_role_arn", "tag_key", "tag_value"),
                f"selection {selection.key}",
            )
    return errors


def _days(node: _Node | None) -> int | None:
    value = node.value if node is not None else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else None


def _lifecycle_errors(holder: _Node, path: tuple[str, ...]) -> list[PolicyError]:
    lifecycle = _get(holder, "lifecycle")
    if lifecycle is None:
        return []
    cold = _days(_get(lifecycle, "move_to_cold_storage_after_days"))
    delete = _days(_get(lifecycle, "delete_after_days") or _get(lifecycle, "to_delete_after_days"))
    if cold is None or delete is None or delete >= cold + 90:
        return []
    return [
        PolicyError(
            LIFECYCLE_NOT_VALID,
            "A recovery point stays in cold storage at least 90 days: delete_after_days must be at "
            "least move_to_cold_storage_after_days + 90.",
            _dotted((*path, "lifecycle")),
            _contributors(lifecycle),
        )
    ]


def _opt_out_errors(root: _Node) -> list[PolicyError]:
    services = _get(root, "services")
    errors: list[PolicyError] = []
    for service in services.children.values() if services else ():
        if service.children and not _held(_get(service, "opt_out_policy")):
            errors += _missing(
                service, ("services", service.key), ("opt_out_policy",), f"service {service.key}"
            )
    return errors
