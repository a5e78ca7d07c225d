"""AWS JSON 1.1 protocol (Organizations): a JSON object in, a JSON object out.

Type mismatches are SerializationException (Coral's "STRING_VALUE can not be converted to
an Integer"), and so is a body that is not JSON or nests deeper than core.bounded_json allows;
constraint violations are ValidationException with Coral's message, except for Organizations,
which models them as InvalidInputException with a `Reason`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.model import OperationModel

from rolehop.core.bounded_json import load_json
from rolehop.core.errors import (
    ClientError,
    InternalFailure,
    InvalidInputException,
    SerializationException,
    ValidationException,
)
from rolehop.wire.models import (
    ListOf,
    MapOf,
    Node,
    Scalar,
    Structure,
    epoch_seconds,
    from_epoch,
    input_plan,
    output_plan,
    parse_timestamp,
)
from rolehop.wire.validation import Violation, coral_message, validate

# Services whose model answers validation failures with InvalidInputException + Reason.
_REASON_SERVICES = frozenset({"organizations"})
# Messages AWS Organizations sends per reason (its API reference; the pattern one as observed).
_REASON_TEXT = {
    "INPUT_REQUIRED": "You must include a value for all required parameters.",
    "INVALID_PATTERN": "You provided a value that does not match the required pattern.",
    "INVALID_ENUM": "You specified an invalid value.",
    "MIN_LENGTH_EXCEEDED": "You provided a string parameter that is shorter than allowed.",
    "MAX_LENGTH_EXCEEDED": "You provided a string parameter that is longer than allowed.",
    "MIN_VALUE_EXCEEDED": "You provided a numeric parameter that has a smaller value than allowed.",
    "MAX_VALUE_EXCEEDED": "You provided a numeric parameter that has a larger value than allowed.",
}
_TYPE_NAMES = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "boolean": "a Boolean",
    "timestamp": "a Timestamp",
    "blob": "a Blob",
    "float": "a Float",
    "double": "a Double",
}
_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
# a service's own error for a member that breaks its constraints (lowerCamel path, value as shown), or None
MemberError = Callable[[str, str | None], ClientError | None]


# --- parsing -----------------------------------------------------------------------------


def parse_json(
    operation_model: OperationModel, body: bytes, *, member_error: MemberError | None = None
) -> dict[str, Any]:
    """The operation's input as botocore member names and Python types, validated.

    Unknown fields are ignored and null counts as absent, as in AWS's JSON services. Raises
    SerializationException for a body that is not a JSON object or a value of the wrong
    type, and ValidationException / InvalidInputException for violated constraints, or the
    error `member_error` gives for the first violated member (CloudTrail's own errors).
    """
    document = _load(body)
    plan = input_plan(operation_model)
    if plan is None:
        return {}
    data = _read_structure(plan, document)  # recursion no deeper than the document: bounded by _load
    violations = validate(plan, data)
    if violations:
        own = member_error(violations[0].path, violations[0].shown) if member_error else None
        raise own or _validation_error(operation_model.service_model.service_name, violations)
    return data


def _load(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}  # an empty body is an empty input
    try:
        document = load_json(body)
    except ValueError:  # too deeply nested, NaN, or not UTF-8 as well
        raise SerializationException("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise SerializationException(_mismatch(document, "a Structure"))
    return document


def _validation_error(service: str, violations: list[Violation]) -> ClientError:
    if service in _REASON_SERVICES:
        reason = violations[0].reason  # AWS names one reason, the first failure
        return InvalidInputException(_REASON_TEXT.get(reason, _REASON_TEXT["INVALID_PATTERN"]), reason=reason)
    return ValidationException(coral_message(violations))


def _read(node: Node, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(node, Structure):
        if not isinstance(value, dict):
            raise SerializationException(_mismatch(value, "a Structure"))
        return _read_structure(node, value)
    if isinstance(node, ListOf):
        if not isinstance(value, list):
            raise SerializationException(_mismatch(value, "a List"))
        return [_read(node.item, item) for item in value]
    if isinstance(node, MapOf):
        if not isinstance(value, dict):
            raise SerializationException(_mismatch(value, "a Map"))
        return {_read(node.key, key): _read(node.value, item) for key, item in value.items()}
    return _read_scalar(node, value)


def _read_structure(node: Structure, document: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for member in node.members:
        value = _read(member.node, document.get(member.wire))
        if value is not None:
            data[member.name] = value
    return data


def _read_scalar(node: Scalar, value: Any) -> Any:
    kind = node.kind
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if isinstance(value, bool):
        pass  # JSON true/false is never a number
    elif kind in _INT_RANGE and isinstance(value, int):
        low, high = _INT_RANGE[kind]
        if low <= value <= high:
            return value
    elif kind in ("float", "double") and isinstance(value, int | float):
        return float(value)
    elif kind == "timestamp" and isinstance(value, int | float | str):
        moment = parse_timestamp(value) if isinstance(value, str) else from_epoch(value)
        if moment is not None:
            return moment
    elif kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException("Base64 encoded data expected for a Blob.") from None
    raise SerializationException(_mismatch(value, _TYPE_NAMES.get(kind, "a value")))


def _mismatch(value: Any, expected: str) -> str:
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected"
    token = "STRING_VALUE" if isinstance(value, str) else "BOOLEAN_VALUE"
    if isinstance(value, int | float) and not isinstance(value, bool):
        token = "NUMBER_VALUE"
    return f"{token} can not be converted to {expected}"


# --- serializing -------------------------------------------------------------------------


def serialize_json_response(operation_model: OperationModel, result: Mapping[str, Any]) -> bytes:
    """The output object; timestamps as epoch seconds, blobs base64, None omitted."""
    plan = output_plan(operation_model)
    document = {} if plan is None else _structure(plan, result)
    return json.dumps(document, separators=(",", ":")).encode()


def serialize_json_error(
    code: str, message: str, *, fields: Mapping[str, str] | None = None, json_version: str = "1.1"
) -> tuple[bytes, dict[str, str]]:
    """Body `{"__type": code, "message": …}` (plus modeled `fields`, e.g. Organizations'
    Reason) and the headers botocore and REST-JSON clients read the code from."""
    body = {"__type": code, "message": message, **(fields or {})}
    headers = {"Content-Type": f"application/x-amz-json-{json_version}", "x-amzn-ErrorType": code}
    return json.dumps(body, separators=(",", ":")).encode(), headers


def _structure(node: Structure, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad_result()
    out: dict[str, Any] = {}
    for member in node.members:
        item = value.get(member.name)
        if item is not None:
            out[member.wire] = _value(member.node, item)
    return out


def _value(node: Node, value: Any) -> Any:
    if isinstance(node, Structure):
        return _structure(node, value)
    if isinstance(node, ListOf):
        if not isinstance(value, list | tuple):
            raise _bad_result()
        return [_value(node.item, item) for item in value]
    if isinstance(node, MapOf):
        if not isinstance(value, Mapping):
            raise _bad_result()
        return {_value(node.key, key): _value(node.value, item) for key, item in value.items()}
    return _scalar(node, value)


def _scalar(node: Scalar, value: Any) -> Any:
    kind = node.kind
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if isinstance(value, bool):
        raise _bad_result()
    if kind in _INT_RANGE and isinstance(value, int):
        return value
    if kind in ("float", "double") and isinstance(value, int | float) and math.isfinite(value):
        return value
    if kind == "timestamp" and isinstance(value, datetime):
        return epoch_seconds(value)
    if kind == "blob" and isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise _bad_result()


def _bad_result() -> InternalFailure:
    # A service returned a value its output shape does not allow: our bug, never the caller's.
    return InternalFailure("We encountered an internal error. Please try again.")
