"""Validation as AWS's Coral services answer it: every violated constraint, in member order, as
"Value 'x' at 'userName' failed to satisfy constraint: Member must …".

Beyond the model, no string may hold a NUL character: most IAM patterns exclude it already, but
members without a pattern (ARNs, descriptions) and Organizations' match-anything ones admit it, and no
store can keep it (PostgreSQL's text refuses it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rolehop.wire.models import ListOf, MapOf, Node, Scalar, Structure

NUL = "\x00"
NO_NUL = "Member must not contain the null character (U+0000)"


@dataclass(frozen=True, slots=True)
class Violation:
    path: str  # lowerCamel, lists as `tags.1.member.key`
    shown: str | None  # the value as AWS prints it; None for null
    redacted: bool  # sensitive values and blobs are never echoed
    constraint: str
    reason: str  # Organizations' InvalidInputException reason

    def describe(self) -> str:
        if self.redacted:
            value = "Value"
        elif self.shown is None:
            value = "Value null"
        else:
            value = f"Value '{self.shown}'"
        return f"{value} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def coral_message(violations: list[Violation]) -> str:
    count = len(violations)
    head = f"{count} validation error{'' if count == 1 else 's'} detected: "
    return head + "; ".join(v.describe() for v in violations)


def validate(plan: Structure, data: Mapping[str, Any]) -> list[Violation]:
    """Every constraint `data` (already typed by a codec) violates, in member order."""
    out: list[Violation] = []
    _check_structure(plan, data, "", out)
    return out


def _check_structure(node: Structure, data: Mapping[str, Any], path: str, out: list[Violation]) -> None:
    present = 0
    for member in node.members:
        at = f"{path}.{member.camel}" if path else member.camel
        value = data.get(member.name)
        if value is None:
            if member.name in node.required:
                out.append(Violation(at, None, False, "Member must not be null", "INPUT_REQUIRED"))
            continue
        present += 1
        _check(member.node, value, at, out)
    if node.union and present != 1:
        out.append(Violation(path, None, True, "Member must have exactly one member set", "INPUT_REQUIRED"))


def _check(node: Node, value: Any, path: str, out: list[Violation]) -> None:
    if isinstance(node, Structure):
        _check_structure(node, value, path, out)
    elif isinstance(node, ListOf):
        _check_size(node, value, path, out)
        for index, item in enumerate(value, 1):
            _check_item(node.item, item, f"{path}.{index}.member", out)
    elif isinstance(node, MapOf):
        _check_size(node, value, path, out)
        for index, (key, item) in enumerate(value.items(), 1):
            _check(node.key, key, f"{path}.{index}.key", out)
            _check_item(node.value, item, f"{path}.{index}.value", out)
    elif node.kind in ("string", "blob"):
        _check_text(node, value, path, out)
    elif node.kind in ("integer", "long", "float", "double"):
        _check_number(node, value, path, out)


def _check_item(node: Node, value: Any, path: str, out: list[Violation]) -> None:
    if value is None:  # a JSON null inside a list or map
        out.append(Violation(path, None, False, "Member must not be null", "INPUT_REQUIRED"))
    else:
        _check(node, value, path, out)


def _check_text(node: Scalar, value: str | bytes, path: str, out: list[Violation]) -> None:
    def add(constraint: str, reason: str) -> None:
        shown = value if isinstance(value, str) else None
        out.append(Violation(path, shown, node.sensitive or shown is None, constraint, reason))

    if node.pattern is not None and isinstance(value, str) and node.pattern.fullmatch(value) is None:
        add(f"Member must satisfy regular expression pattern: {node.pattern_text}", "INVALID_PATTERN")
    elif isinstance(value, str) and NUL in value:
        # Models without a pattern (or with `[\s\S]*`) admit NUL, which PostgreSQL's text refuses.
        add(NO_NUL, "INVALID_PATTERN")
    if node.min is not None and len(value) < node.min:
        add(f"Member must have length greater than or equal to {_num(node.min)}", "MIN_LENGTH_EXCEEDED")
    if node.max is not None and len(value) > node.max:
        add(f"Member must have length less than or equal to {_num(node.max)}", "MAX_LENGTH_EXCEEDED")
    if node.enum and value not in node.enum_set:
        add(f"Member must satisfy enum value set: [{', '.join(node.enum)}]", "INVALID_ENUM")


def _check_number(node: Scalar, value: float, path: str, out: list[Violation]) -> None:
    if node.min is not None and value < node.min:
        constraint = f"Member must have value greater than or equal to {_num(node.min)}"
        out.append(Violation(path, _show(node, value), node.sensitive, constraint, "MIN_VALUE_EXCEEDED"))
    if node.max is not None and value > node.max:
        constraint = f"Member must have value less than or equal to {_num(node.max)}"
        out.append(Violation(path, _show(node, value), node.sensitive, constraint, "MAX_VALUE_EXCEEDED"))


def _check_size(node: ListOf | MapOf, value: Any, path: str, out: list[Violation]) -> None:
    too_few = node.min is not None and len(value) < node.min
    too_many = node.max is not None and len(value) > node.max
    if not (too_few or too_many):
        return
    shown = _show(node, value)  # only now: rendering a whole list is not per-request work
    if too_few:
        constraint = f"Member must have length greater than or equal to {_num(node.min or 0)}"
        out.append(Violation(path, shown, shown is None, constraint, "MIN_LENGTH_EXCEEDED"))
    if too_many:
        constraint = f"Member must have length less than or equal to {_num(node.max or 0)}"
        out.append(Violation(path, shown, shown is None, constraint, "MAX_LENGTH_EXCEEDED"))


def _show(node: Node, value: Any) -> str | None:
    """Java's toString of a value (`[a, b]`, `{Key: k}`); None when it must not be echoed."""
    if node.sensitive:
        return None
    if value is None:
        return "null"
    if isinstance(node, ListOf):
        items = [_show(node.item, item) for item in value]
        return None if None in items else f"[{', '.join(str(item) for item in items)}]"
    if isinstance(node, MapOf):
        pairs = [(_show(node.key, k), _show(node.value, v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}={v}" for k, v in pairs) + "}"
    if isinstance(node, Structure):
        fields = [
            (m.name, _show(m.node, value[m.name])) for m in node.members if value.get(m.name) is not None
        ]
        if any(text is None for _, text in fields):
            return None
        return "{" + ", ".join(f"{name}: {text}" for name, text in fields) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return None
    return str(value)


def _num(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)
