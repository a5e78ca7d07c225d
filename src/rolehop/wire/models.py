"""botocore's service models, compiled once into the plans the wire codecs run on.

botocore is untyped; every botocore object stays inside this module's builders. The codecs
see only the typed plan nodes below (`Structure`, `ListOf`, `MapOf`, `Scalar`), built once
per operation and cached, so a request never re-reads the model.

Validation follows AWS's Coral services: every violated constraint is reported, in member
order, as "Value 'x' at 'userName' failed to satisfy constraint: Member must …".
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

from rolehop.core.errors import ClientError, InvalidAction

SERVICES = frozenset({"iam", "sts", "organizations"})


# --- models ------------------------------------------------------------------------------


@functools.cache
def _loader() -> Loader:
    # botocore's own models only: ~/.aws/models or AWS_DATA_PATH must not reshape the server.
    return Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of a service rolehop serves; ValueError for any other name."""
    if name not in SERVICES:
        raise ValueError(f"rolehop does not serve {name!r}")
    return ServiceModel(_loader().load_service_model(name, "service-2"), service_name=name)


@functools.cache
def _operation_names(service: str) -> frozenset[str]:
    return frozenset(service_model(service).operation_names)


def operation_model(service: str, op_name: str) -> OperationModel:
    """The operation `op_name` (case-sensitive, as AWS) or the error AWS answers for it."""
    model = service_model(service)
    if op_name not in _operation_names(service):
        if model.protocol == "query":
            version = model.metadata["apiVersion"]
            raise InvalidAction(f"Could not find operation {op_name} for version {version}")
        # Coral JSON services answer 400 {"__type": "UnknownOperationException"}, no message.
        raise ClientError("", code="UnknownOperationException")
    return model.operation_model(op_name)


# --- plans -------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Scalar:
    kind: str  # string, integer, long, float, double, boolean, timestamp, blob
    min: float | None = None
    max: float | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    enum: tuple[str, ...] = ()
    enum_set: frozenset[str] = frozenset()
    sensitive: bool = False


@dataclass(eq=False, slots=True)
class Member:
    name: str  # botocore member name: the key in parsed and result dicts
    wire: str  # name on the wire (locationName, else the member name)
    camel: str  # name in validation messages
    node: Node


@dataclass(eq=False, slots=True)
class Structure:
    members: tuple[Member, ...] = ()
    required: frozenset[str] = frozenset()
    union: bool = False
    sensitive: bool = False
    wrapper: str | None = None  # resultWrapper of a Query output shape


@dataclass(eq=False, slots=True)
class ListOf:
    item: Node = field(default_factory=lambda: Scalar("string"))
    item_wire: str = "member"
    flattened: bool = False
    min: float | None = None
    max: float | None = None
    sensitive: bool = False


@dataclass(eq=False, slots=True)
class MapOf:
    key: Scalar = field(default_factory=lambda: Scalar("string"))
    value: Node = field(default_factory=lambda: Scalar("string"))
    key_wire: str = "key"
    value_wire: str = "value"
    flattened: bool = False
    min: float | None = None
    max: float | None = None
    sensitive: bool = False


Node = Scalar | Structure | ListOf | MapOf


@functools.cache
def input_plan(op: OperationModel) -> Structure | None:
    return None if op.input_shape is None else _PlanBuilder().structure(op.input_shape)


@functools.cache
def output_plan(op: OperationModel) -> Structure | None:
    return None if op.output_shape is None else _PlanBuilder().structure(op.output_shape)


class _PlanBuilder:
    """Turns botocore shapes into plan nodes; memoized per shape so recursion terminates."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str], Node] = {}

    def node(self, shape: Any) -> Node:
        kind = str(shape.type_name)
        if kind == "structure":
            return self.structure(shape)
        if kind in ("list", "map"):
            memo_key = (str(shape.name), repr(sorted(shape.serialization.items())))
            if memo_key in self._memo:
                return self._memo[memo_key]
            built: ListOf | MapOf = ListOf() if kind == "list" else MapOf()
            self._memo[memo_key] = built
            self._fill_container(built, shape)
            return built
        return _scalar(shape)

    def structure(self, shape: Any) -> Structure:
        memo_key = (str(shape.name), "structure")
        known = self._memo.get(memo_key)
        if isinstance(known, Structure):
            return known
        built = Structure(
            required=frozenset(shape.required_members),
            union=bool(shape.metadata.get("union")),
            sensitive=bool(shape.metadata.get("sensitive")),
            wrapper=shape.serialization.get("resultWrapper"),
        )
        self._memo[memo_key] = built
        built.members = tuple(
            Member(str(name), _wire_name(ref, name), _camel(str(name)), self.node(ref))
            for name, ref in shape.members.items()
        )
        return built

    def _fill_container(self, built: ListOf | MapOf, shape: Any) -> None:
        built.min = shape.metadata.get("min")
        built.max = shape.metadata.get("max")
        built.sensitive = bool(shape.metadata.get("sensitive"))
        built.flattened = bool(shape.serialization.get("flattened"))
        if isinstance(built, ListOf):
            built.item = self.node(shape.member)
            built.item_wire = shape.member.serialization.get("name", "member")
        else:
            key = self.node(shape.key)
            if not isinstance(key, Scalar):
                raise TypeError(f"map {shape.name} has a non-scalar key")
            built.key, built.value = key, self.node(shape.value)
            built.key_wire = shape.key.serialization.get("name", "key")
            built.value_wire = shape.value.serialization.get("name", "value")


def _scalar(shape: Any) -> Scalar:
    meta = shape.metadata
    text = meta.get("pattern")
    enum = tuple(str(v) for v in shape.enum) if shape.type_name == "string" else ()
    return Scalar(
        kind=str(shape.type_name),
        min=meta.get("min"),
        max=meta.get("max"),
        pattern=compile_java_pattern(text) if text else None,
        pattern_text=text or "",
        enum=enum,
        enum_set=frozenset(enum),
        sensitive=bool(meta.get("sensitive")),
    )


def _wire_name(ref: Any, name: str) -> str:
    return str(ref.serialization.get("name", name))


def _camel(name: str) -> str:
    # Coral names members in lowerCamel: UserName -> userName, SAMLAssertion -> sAMLAssertion.
    return name[:1].lower() + name[1:]


# --- Java regular expressions --------------------------------------------------------------

_UNSUPPORTED_ESCAPES = frozenset("hHRXQEGzeckKVv")
_JAVA_DOT = "[^\\n\\r\\u0085\\u2028\\u2029]"  # Java's `.` excludes every line terminator


@functools.cache
def compile_java_pattern(text: str) -> re.Pattern[str] | None:
    """A Python regex with Java's full-match semantics, or None when it cannot be translated
    faithfully (then the constraint is not checked: better lenient than wrongly strict)."""
    translated = _translate(text)
    if translated is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FutureWarning marks Java/Python differences
            return re.compile(translated, re.ASCII)  # Java's \w \d \s are ASCII by default
    except (re.error, Warning):
        return None


def _translate(text: str) -> str | None:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            esc = text[i + 1]
            if esc in "pP":
                name, i = _property_name(text, i + 2)
                ranges = _category_ranges(name) if name else None
                if ranges is None or (esc == "P" and in_class):
                    return None
                out.append(ranges if in_class else f"[{'^' if esc == 'P' else ''}{ranges}]")
                continue
            if esc in _UNSUPPORTED_ESCAPES:
                return None
            out.append(text[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[" or text.startswith("&&", i):
                return None  # Java class union/intersection
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if text.startswith("[^]", i) or text.startswith("[]", i):
                return None
        elif ch == ".":
            out.append(_JAVA_DOT)
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _property_name(text: str, at: int) -> tuple[str | None, int]:
    if at < len(text) and text[at] == "{":
        end = text.find("}", at)
        return (text[at + 1 : end], end + 1) if end > 0 else (None, len(text))
    return (text[at], at + 1) if at < len(text) else (None, at)


def _category_ranges(name: str) -> str | None:
    name = name.removeprefix("Is").removeprefix("general_category=")
    return _unicode_categories().get(name)


@functools.cache
def _unicode_categories() -> dict[str, str]:
    """Regex class bodies for every general category (Lu…) and major class (L…); ~0.2 s once."""
    runs: dict[str, list[list[int]]] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        for name in (cat, cat[0]):
            ranges = runs.setdefault(name, [])
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return {name: "".join(_class_range(low, high) for low, high in ranges) for name, ranges in runs.items()}


def _class_range(low: int, high: int) -> str:
    return f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}"


# --- validation --------------------------------------------------------------------------


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


# --- timestamps --------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO8601 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)
_EPOCH_TEXT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")


def parse_timestamp(text: str) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (zone defaults to UTC) or epoch seconds; else None."""
    if _EPOCH_TEXT.fullmatch(text):
        return from_epoch(float(text))
    match = _ISO8601.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _, sign, off_h, off_m = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int((fraction or "0")[:6].ljust(6, "0")), tzinfo=UTC,
        )  # fmt: skip
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            moment = moment - offset if sign == "+" else moment + offset
    except (ValueError, OverflowError):
        return None
    return moment


def from_epoch(seconds: float) -> datetime | None:
    try:
        return _EPOCH + timedelta(seconds=seconds)  # rounds to the microsecond
    except (ValueError, OverflowError):
        return None


def _utc(moment: datetime) -> datetime:
    # A naive datetime from a service is taken as UTC; the core hands out aware ones.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_iso8601(moment: datetime) -> str:
    """`2024-05-01T12:00:00Z`, with milliseconds when there are any (as IAM and STS write)."""
    m = _utc(moment)
    text = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
    return f"{text}.{m.microsecond // 1000:03d}Z" if m.microsecond >= 1000 else f"{text}Z"


def epoch_seconds(moment: datetime) -> int | float:
    """Epoch seconds for JSON bodies: an int, or a float carrying milliseconds."""
    m = _utc(moment)
    whole = (m.replace(microsecond=0) - _EPOCH) // timedelta(seconds=1)
    millis = m.microsecond // 1000
    return whole if millis == 0 else whole + millis / 1000


def warm_up(services: frozenset[str] = SERVICES) -> None:
    """Build every plan now (~0.6 s), so no first request pays for it; call at server start."""
    for service in services:
        for name in _operation_names(service):
            op = operation_model(service, name)
            input_plan(op)
            output_plan(op)
