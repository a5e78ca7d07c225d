"""botocore's service models, compiled once into the plans the wire codecs run on.

botocore is untyped; every botocore object stays inside this module's builders. The codecs
see only the typed plan nodes below (`Structure`, `ListOf`, `MapOf`, `Scalar`), built once
per operation and cached, so a request never re-reads the model.

Validation of decoded input lives in validation.py; botocore's Java patterns are translated
in java_regex.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

from rolehop.core.errors import InvalidAction, UnknownOperationException
from rolehop.wire.java_regex import compile_java_pattern

SERVICES = frozenset({"iam", "sts", "organizations", "cloudtrail"})
# Constraints AWS's API references give (they are generated from AWS's own models) that botocore's
# models leave out, by (service, shape). IAM's VirtualMFADeviceName is 1-226 characters, so that the
# serial number `arn:aws:iam::<account>:mfa/<name>` fits serialNumberType's 256.
DOCUMENTED_CONSTRAINTS: Mapping[tuple[str, str], Mapping[str, int]] = MappingProxyType(
    {("iam", "virtualMFADeviceName"): MappingProxyType({"max": 226})}
)


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
        raise UnknownOperationException("")
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
    builder = _PlanBuilder(op.service_model.service_name)
    return None if op.input_shape is None else builder.structure(op.input_shape)


@functools.cache
def output_plan(op: OperationModel) -> Structure | None:
    builder = _PlanBuilder(op.service_model.service_name)
    return None if op.output_shape is None else builder.structure(op.output_shape)


class _PlanBuilder:
    """Turns botocore shapes into plan nodes; memoized per shape so recursion terminates."""

    def __init__(self, service: str) -> None:
        self._service = service
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
        return _scalar(shape, DOCUMENTED_CONSTRAINTS.get((self._service, str(shape.name)), {}))

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


def _scalar(shape: Any, documented: Mapping[str, int]) -> Scalar:
    meta = {**shape.metadata, **documented}
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
