"""Condition operators, compiled once into closures over the request context.

Semantics (IAM User Guide, "Condition operators", "Single-valued vs. multivalued context keys",
"Condition with multiple context keys or values"):
- operators combine with AND, keys within an operator with AND, values within a key with OR;
- a missing key makes a condition false, except for negated operators (`…Not…`, which are then
  true), `…IfExists` (true) and `ForAllValues:` (true);
- a key with several values needs `ForAllValues:`/`ForAnyValue:`; without one it matches nothing;
- a negated operator is true for a value only when no policy value matches it; a policy value
  whose variable cannot be resolved, or a request value of the wrong type, matches nothing and
  makes a negated operator false too;
- operator names are case-sensitive, keys case-insensitive; an unknown operator, `IfExists` on
  `Null`, or a literal value the operator cannot read is a MalformedPolicyDocument.
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolehop.core.errors import MalformedPolicyDocument
from rolehop.core.policy import values
from rolehop.core.policy.arnmatch import ArnPattern, split_arn
from rolehop.core.policy.variables import (
    EMPTY_CONTEXT,
    Context,
    Part,
    Resolved,
    is_static,
    parse,
    to_text,
    to_tokens,
)
from rolehop.core.policy.wildcard import Glob

Check = Callable[[Context], bool]
ValueTest = Callable[[str, Context], bool]

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "eq": op.eq,
    "lt": op.lt,
    "le": op.le,
    "gt": op.gt,
    "ge": op.ge,
}


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one family of operators reads policy and request values and compares them."""

    policy: Callable[[tuple[Part, ...], Context], Any]  # None when unreadable / unresolved
    request: Callable[[str], Any]  # None when the request value is unreadable


def _text(parts: tuple[Part, ...], ctx: Context) -> str | None:
    return to_text(parts, ctx)


def _typed(parse_fn: Callable[[str], Any]) -> Callable[[tuple[Part, ...], Context], Any]:
    def read(parts: tuple[Part, ...], ctx: Context) -> Any:
        text = to_text(parts, ctx)
        return None if text is None else parse_fn(text)

    return read


def _folded(parts: tuple[Part, ...], ctx: Context) -> str | None:
    text = to_text(parts, ctx)
    return None if text is None else text.casefold()


def _glob(parts: tuple[Part, ...], ctx: Context) -> Glob | None:
    tokens = to_tokens(parts, ctx)
    return None if tokens is None else Glob(tokens, runtime=ctx is not EMPTY_CONTEXT)


def _arn(parts: tuple[Part, ...], ctx: Context) -> ArnPattern | None:
    """An Arn* value: `*`, or six colon-separated segments starting with `arn`."""
    tokens = to_tokens(parts, ctx)
    if tokens is None:
        return None
    pattern = ArnPattern(tokens, type_rule=False, runtime=ctx is not EMPTY_CONTEXT)
    return pattern if pattern.is_any or pattern.is_arn else None


def _request_arn(text: str) -> tuple[str, tuple[str, ...]] | None:
    parts = split_arn(text)
    return None if parts is None else (text, parts)


_KINDS: dict[str, _Kind] = {
    "string": _Kind(_text, str),
    "folded": _Kind(_folded, str.casefold),
    "like": _Kind(_glob, str),
    "numeric": _Kind(_typed(values.parse_number), values.parse_number),
    "date": _Kind(_typed(values.parse_date), values.parse_date),
    "bool": _Kind(_typed(values.parse_bool), values.parse_bool),
    "binary": _Kind(_typed(values.parse_binary), values.parse_binary),
    "ip": _Kind(_typed(values.parse_network), values.parse_address),
    "arn": _Kind(_arn, _request_arn),
}


def _compare(kind: str, cmp: str) -> Callable[[Any, Any], bool]:
    """(request value, policy value) -> bool."""
    if kind == "like":
        return lambda r, p: bool(p.match(r))
    if kind == "arn":
        return lambda r, p: bool(p.match(r[0], r[1]))
    if kind == "ip":
        return values.in_network
    return _CMP[cmp]


@dataclass(frozen=True, slots=True)
class _Op:
    kind: str
    cmp: str = "eq"
    negated: bool = False


def _operator_table() -> dict[str, _Op]:
    table: dict[str, _Op] = {
        "StringEquals": _Op("string"),
        "StringNotEquals": _Op("string", negated=True),
        "StringEqualsIgnoreCase": _Op("folded"),
        "StringNotEqualsIgnoreCase": _Op("folded", negated=True),
        "StringLike": _Op("like"),
        "StringNotLike": _Op("like", negated=True),
        "Bool": _Op("bool"),
        "BinaryEquals": _Op("binary"),
        "IpAddress": _Op("ip"),
        "NotIpAddress": _Op("ip", negated=True),
        "ArnEquals": _Op("arn"),
        "ArnLike": _Op("arn"),
        "ArnNotEquals": _Op("arn", negated=True),
        "ArnNotLike": _Op("arn", negated=True),
    }
    for family, kind in (("Numeric", "numeric"), ("Date", "date")):
        table[f"{family}Equals"] = _Op(kind)
        table[f"{family}NotEquals"] = _Op(kind, negated=True)
        for suffix, cmp in (
            ("LessThan", "lt"),
            ("LessThanEquals", "le"),
            ("GreaterThan", "gt"),
            ("GreaterThanEquals", "ge"),
        ):
            table[f"{family}{suffix}"] = _Op(kind, cmp)
    return table


OPERATORS = _operator_table()
_ALL, _ANY = "ForAllValues", "ForAnyValue"


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key) pair of a Condition block."""

    operator: str
    key: str  # lower-cased
    check: Check = field(repr=False, compare=False)


def _policy_strings(raw: Any, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, int | float):
            out.append(str(item))
        else:
            raise MalformedPolicyDocument(f"Condition value for {where} must be a string, number or boolean.")
    return out


def _split_operator(name: str) -> tuple[str | None, str, bool]:
    qualifier, base = None, name
    for prefix in (_ALL, _ANY):
        if name.startswith(prefix + ":"):
            qualifier, base = prefix, name[len(prefix) + 1 :]
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base != "Null" and base not in OPERATORS:
        raise MalformedPolicyDocument(f"Unknown condition operator {name}.")
    if base == "Null" and if_exists:
        raise MalformedPolicyDocument("The Null condition operator does not take IfExists.")
    return qualifier, base, if_exists


def compile_block(block: Any, *, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(block, Mapping):
        raise MalformedPolicyDocument("Condition must be an object.")
    out: list[Condition] = []
    for name, keys in block.items():
        qualifier, base, if_exists = _split_operator(str(name))
        if not isinstance(keys, Mapping):
            raise MalformedPolicyDocument(f"Condition operator {name} must map keys to values.")
        for key, raw in keys.items():
            texts = _policy_strings(raw, f"{name} {key}")
            lowered = str(key).lower()
            if base == "Null":
                check = _null_check(lowered, texts, name)
            else:
                test = _value_test(OPERATORS[base], texts, name, variables)
                check = _check(lowered, qualifier, if_exists, OPERATORS[base].negated, test)
            out.append(Condition(str(name), lowered, check))
    return tuple(out)


def _null_check(key: str, texts: Sequence[str], name: str) -> Check:
    wanted: set[bool] = set()
    for text in texts:
        parsed = values.parse_bool(text)
        if parsed is None:
            raise MalformedPolicyDocument(f"Condition {name} takes true or false, not {text!r}.")
        wanted.add(parsed)
    # Null: true means "the key is absent"; ForAllValues:/ForAnyValue:Null mean the same
    return lambda ctx: (key not in ctx) in wanted


def _check(key: str, qualifier: str | None, if_exists: bool, negated: bool, test: ValueTest) -> Check:
    # a missing key: true for IfExists, for negated operators and for ForAllValues
    absent = if_exists or (negated if qualifier is None else qualifier == _ALL)

    def check(ctx: Context) -> bool:
        found = ctx.get(key)
        if found is None:
            return absent
        if isinstance(found, str):
            return test(found, ctx)
        if qualifier is None:
            # a multivalued key needs a set operator; one value in a list is still one value
            return len(found) == 1 and test(found[0], ctx)
        if qualifier == _ALL:
            return all(test(v, ctx) for v in found)
        return any(test(v, ctx) for v in found)

    return check


def _value_test(spec: _Op, texts: Sequence[str], name: str, variables: bool) -> ValueTest:
    kind = _KINDS[spec.kind]
    compare = _compare(spec.kind, spec.cmp)
    static: list[Any] = []
    dynamic: list[Resolved[Any]] = []
    for text in texts:
        parts = parse(text, variables=variables)
        if not is_static(parts):
            dynamic.append(Resolved(parts, kind.policy))
            continue
        value = kind.policy(parts, EMPTY_CONTEXT)
        if value is None:
            raise MalformedPolicyDocument(f"Condition {name} cannot use the value {text!r}.")
        static.append(value)
    negated = spec.negated
    if not dynamic and spec.kind in ("string", "folded") and spec.cmp == "eq":
        return _set_test(frozenset(static), kind.request, negated)
    read_request = kind.request
    fixed = tuple(static)
    templates = tuple(dynamic)

    def test(raw: str, ctx: Context) -> bool:
        value = read_request(raw)
        if value is None:
            return False
        for candidate in fixed:
            if compare(value, candidate):
                return not negated
        unresolved = False
        for template in templates:
            candidate = template(ctx)
            if candidate is None:
                unresolved = True
            elif compare(value, candidate):
                return not negated
        return negated and not unresolved

    return test


def _set_test(allowed: frozenset[Any], read: Callable[[str], Any], negated: bool) -> ValueTest:
    if read is str:
        if negated:
            return lambda raw, _ctx: raw not in allowed
        return lambda raw, _ctx: raw in allowed
    return lambda raw, _ctx: (read(raw) in allowed) != negated


def _always(_ctx: Context) -> bool:
    return True


def all_of(conditions: tuple[Condition, ...]) -> Check:
    """One callable for a whole Condition block (AND), with no loop for the usual 0 or 1."""
    checks = tuple(c.check for c in conditions)
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def check_all(ctx: Context) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop is faster than all()
            if not check(ctx):
                return False
        return True

    return check_all
