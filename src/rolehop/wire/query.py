"""AWS Query protocol (IAM, STS): form parameters in, XML out.

`parse_query` rebuilds the nested input from flat keys (`Tags.member.1.Key`), converts
types, then validates the whole input against the model. `serialize_query_*` write the XML
envelopes botocore's QueryParser reads.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.model import OperationModel

from rolehop.core.errors import InternalFailure, InvalidParameterValue, ValidationError
from rolehop.wire.models import (
    ListOf,
    MapOf,
    Node,
    Scalar,
    Structure,
    format_iso8601,
    input_plan,
    output_plan,
    parse_timestamp,
)
from rolehop.wire.validation import coral_message, validate

IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"

_LEAF = "\x00"  # key under which a tree node keeps the value sent for its own name
_INDEX = re.compile(r"[1-9][0-9]{0,8}")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:NaN|Infinity)")
_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}

Tree = dict[str, "Tree | str"]


# --- parsing -----------------------------------------------------------------------------


def parse_query(operation_model: OperationModel, params: Mapping[str, str]) -> dict[str, Any]:
    """The operation's input as botocore member names and Python types, validated.

    Parameters that are not members (Action, Version, X-Amz-*, unknown names) are ignored,
    as AWS does. Raises InvalidParameterValue for a value of the wrong type and
    ValidationError listing every violated constraint.
    """
    plan = input_plan(operation_model)
    if plan is None:
        return {}
    try:
        data = _read_structure(plan, _tree(params), "")
    except RecursionError:  # only a pathological key nesting reaches this
        raise InvalidParameterValue("The request parameters are nested too deeply.") from None
    violations = validate(plan, data)
    if violations:
        raise ValidationError(coral_message(violations))
    return data


def _tree(params: Mapping[str, str]) -> Tree:
    root: Tree = {}
    for key, value in params.items():
        node = root
        *parents, last = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else {_LEAF: child}
                node[part] = child
            node = child
        existing = node.get(last)
        if isinstance(existing, dict):
            existing[_LEAF] = value
        else:
            node[last] = value
    return root


def _read(node: Node, raw: Tree | str, path: str) -> Any:
    if isinstance(node, Scalar):
        if isinstance(raw, dict):
            leaf = raw.get(_LEAF)
            return None if not isinstance(leaf, str) else _convert(node, leaf, path)
        return _convert(node, raw, path)
    if isinstance(raw, str):
        if raw == "" and isinstance(node, ListOf):
            return []  # botocore sends `Name=` for an empty list
        raise _invalid(path, f"not a valid {_kind(node)}")
    if isinstance(node, Structure):
        return _read_structure(node, raw, path)
    if isinstance(node, ListOf):
        return _read_list(node, raw, path)
    return _read_map(node, raw, path)


def _read_structure(node: Structure, raw: Tree, path: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for member in node.members:
        sent = raw.get(member.wire)
        if sent is not None:
            value = _read(member.node, sent, f"{path}.{member.wire}" if path else member.wire)
            if value is not None:
                data[member.name] = value
    return data


def _read_list(node: ListOf, raw: Tree, path: str) -> list[Any]:
    items = raw if node.flattened else raw.get(node.item_wire)
    if not isinstance(items, dict):
        return []
    prefix = path if node.flattened else f"{path}.{node.item_wire}"
    # Indexes may be sparse or unordered on the wire; their order is what counts.
    indexes = sorted((int(k), k) for k in items if _INDEX.fullmatch(k))
    values = (_read(node.item, items[k], f"{prefix}.{k}") for _, k in indexes)
    return [value for value in values if value is not None]


def _read_map(node: MapOf, raw: Tree, path: str) -> dict[str, Any]:
    entries = raw if node.flattened else raw.get("entry")
    if not isinstance(entries, dict):
        return {}
    prefix = path if node.flattened else f"{path}.entry"
    result: dict[str, Any] = {}
    for _, index in sorted((int(k), k) for k in entries if _INDEX.fullmatch(k)):
        entry = entries[index]
        at = f"{prefix}.{index}"
        if not isinstance(entry, dict) or node.key_wire not in entry or node.value_wire not in entry:
            raise _invalid(at, "a map entry needs a key and a value")
        key = _read(node.key, entry[node.key_wire], f"{at}.{node.key_wire}")
        value = _read(node.value, entry[node.value_wire], f"{at}.{node.value_wire}")
        if key is not None and value is not None:
            result[key] = value
    return result


def _convert(node: Scalar, text: str, path: str) -> Any:
    kind = node.kind
    if kind == "string":
        return text
    if kind in _INT_RANGE:
        low, high = _INT_RANGE[kind]
        if _INTEGER.fullmatch(text) and low <= int(text) <= high:
            return int(text)
    elif kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
    elif kind in ("float", "double"):
        if _DECIMAL.fullmatch(text):
            return float(text)
    elif kind == "timestamp":
        parsed = parse_timestamp(text)
        if parsed is not None:
            return parsed
    elif kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _invalid(path, f"not a valid {kind}", None if node.sensitive else text)


def _invalid(path: str, reason: str, value: str | None = None) -> InvalidParameterValue:
    # The form of SQS, a Query service: "Value x for parameter P is invalid. Reason: …"
    shown = "" if value is None else f" '{value}'"
    return InvalidParameterValue(f"Value{shown} for parameter {path} is invalid. Reason: {reason}.")


def _kind(node: Node) -> str:
    return {Structure: "structure", ListOf: "list", MapOf: "map"}.get(type(node), "value")


# --- serializing -------------------------------------------------------------------------

_XML_ESCAPES: dict[int, str] = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\r"): "&#13;"}
# Characters XML 1.0 cannot carry at all become U+FFFD rather than an unparseable document.
_XML_ESCAPES.update({cp: "\ufffd" for cp in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]})
_XML_ESCAPES.update({cp: "\ufffd" for cp in [*range(0xD800, 0xE000), 0xFFFE, 0xFFFF]})


def xml_escape(text: str) -> str:
    return text.translate(_XML_ESCAPES)


def serialize_query_response(
    operation_model: OperationModel, result: Mapping[str, Any], request_id: str
) -> bytes:
    """`<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>…` as AWS answers.

    None values are omitted; a value of the wrong type is a server bug (InternalFailure).
    """
    name = operation_model.name
    xmlns = operation_model.metadata["xmlNamespace"]
    out = [f'<{name}Response xmlns="{xmlns}">']
    plan = output_plan(operation_model)
    if plan is not None:
        if plan.wrapper:
            out.append(f"<{plan.wrapper}>")
        _write_members(plan, result, out)
        if plan.wrapper:
            out.append(f"</{plan.wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{xml_escape(request_id)}</RequestId></ResponseMetadata>")
    out.append(f"</{name}Response>")
    return "".join(out).encode()


def serialize_query_error(
    code: str, message: str, *, sender: bool, request_id: str, xmlns: str = IAM_XMLNS
) -> bytes:
    """The ErrorResponse envelope; pass the service's `xmlns` (STS differs from IAM)."""
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{xml_escape(xmlns)}"><Error><Type>{kind}</Type>'
        f"<Code>{xml_escape(code)}</Code><Message>{xml_escape(message)}</Message></Error>"
        f"<RequestId>{xml_escape(request_id)}</RequestId></ErrorResponse>"
    ).encode()


def _write_members(node: Structure, value: Any, out: list[str]) -> None:
    if not isinstance(value, Mapping):
        raise _bad_result()
    for member in node.members:
        item = value.get(member.name)
        if item is None:
            continue
        child = member.node
        if isinstance(child, ListOf) and child.flattened:
            tag = member.wire if child.item_wire == "member" else child.item_wire
            _write_items(child, item, tag, out)
        elif isinstance(child, MapOf) and child.flattened:
            _write_entries(child, item, member.wire, out)
        else:
            out.append(f"<{member.wire}>")
            _write_body(child, item, out)
            out.append(f"</{member.wire}>")


def _write_body(node: Node, value: Any, out: list[str]) -> None:
    if isinstance(node, Structure):
        _write_members(node, value, out)
    elif isinstance(node, ListOf):
        _write_items(node, value, node.item_wire, out)
    elif isinstance(node, MapOf):
        _write_entries(node, value, "entry", out)
    else:
        out.append(xml_escape(_scalar_text(node, value)))


def _write_items(node: ListOf, value: Any, tag: str, out: list[str]) -> None:
    if not isinstance(value, list | tuple):
        raise _bad_result()
    for item in value:
        out.append(f"<{tag}>")
        _write_body(node.item, item, out)
        out.append(f"</{tag}>")


def _write_entries(node: MapOf, value: Any, tag: str, out: list[str]) -> None:
    if not isinstance(value, Mapping):
        raise _bad_result()
    for key, item in value.items():
        out.append(f"<{tag}><{node.key_wire}>")
        _write_body(node.key, key, out)
        out.append(f"</{node.key_wire}><{node.value_wire}>")
        _write_body(node.value, item, out)
        out.append(f"</{node.value_wire}></{tag}>")


def _scalar_text(node: Scalar, value: Any) -> str:
    kind = node.kind
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if kind in _INT_RANGE and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind in ("float", "double") and isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value))
    if kind == "timestamp" and isinstance(value, datetime):
        return format_iso8601(value)
    if kind == "blob" and isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise _bad_result()


def _bad_result() -> InternalFailure:
    # A service returned a value its output shape does not allow: our bug, never the caller's.
    return InternalFailure("We encountered an internal error. Please try again.")
