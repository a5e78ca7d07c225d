"""JSON 1.1 protocol (Organizations) against botocore itself: botocore serializes every
operation's requests for our parser, and parses our responses and errors."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
from typing import Any

import botocore.parsers
import botocore.serialize
import pytest
from botocore.awsrequest import HeadersDict
from botocore.model import ServiceModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolehop.core.errors import AwsError, ClientError, InternalFailure, InvalidInputException
from rolehop.wire.json_protocol import (
    parse_json,
    serialize_json_error,
    serialize_json_response,
)
from rolehop.wire.models import operation_model, service_model
from shape_strategies import scalar_strategy, string_strategy

JSON_OPS = [("organizations", op) for op in service_model("organizations").operation_names]
SERIALIZER = botocore.serialize.create_serializer("json")
PARSER = botocore.parsers.create_parser("json")
SLOW_OK = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# --- strategies from botocore shapes (same approach as test_query_codec.py) -----------------

ANY_TEXT = st.characters(codec="utf-8", exclude_categories=["Cs"])  # JSON carries any text


def value_strategy(shape: Any, *, valid: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of `shape`: valid inputs (constraints honoured) or any outputs (types only)."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 4 or not shape.members:
            return st.just({})
        parts = {
            name: value_strategy(ref, valid=valid, depth=depth + 1) for name, ref in shape.members.items()
        }
        if valid and shape.metadata.get("union"):
            return st.one_of(*(st.fixed_dictionaries({n: s}) for n, s in parts.items()))
        required = set(shape.required_members) if valid else set()
        return st.fixed_dictionaries(
            {n: s for n, s in parts.items() if n in required},
            optional={n: s for n, s in parts.items() if n not in required},
        )
    if kind in ("list", "map"):
        low = shape.metadata.get("min", 0) if valid else 0
        high = max(low, min(shape.metadata.get("max", 3), 3)) if depth <= 4 else low
        item = value_strategy(shape.member if kind == "list" else shape.value, valid=valid, depth=depth + 1)
        if kind == "list":
            return st.lists(item, min_size=low, max_size=high)
        keys = value_strategy(shape.key, valid=valid, depth=depth + 1)
        return st.dictionaries(keys, item, min_size=low, max_size=high)
    if kind == "string":
        return string_strategy(shape) if valid else st.text(ANY_TEXT, max_size=20)
    if kind in ("float", "double"):  # only JSON services carry them
        low, high = (shape.metadata.get("min"), shape.metadata.get("max")) if valid else (None, None)
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    scalar = scalar_strategy(shape, valid=valid)
    if scalar is not None:
        return scalar
    raise AssertionError(f"no strategy for {kind}")


@functools.cache
def inputs(op: Any) -> st.SearchStrategy[Any]:
    return st.just({}) if op.input_shape is None else value_strategy(op.input_shape, valid=True)


@functools.cache
def outputs(op: Any) -> st.SearchStrategy[Any]:
    return st.just({}) if op.output_shape is None else value_strategy(op.output_shape, valid=False)


def botocore_body(op: Any, value: dict[str, Any]) -> bytes:
    body: bytes = SERIALIZER.serialize_to_request(value, op)["body"]
    return body


def botocore_parse(shape: Any, body: bytes, headers: dict[str, str] | None = None, status: int = 200) -> Any:
    response = {"body": body, "headers": HeadersDict(headers or {}), "status_code": status}
    return PARSER.parse(response, shape)


# A JSON 1.1 service of our own making, for the types and the Coral ValidationException style
# Organizations does not use.
EXAMPLE = ServiceModel(
    {
        "metadata": {
            "apiVersion": "2020-01-01",
            "protocol": "json",
            "jsonVersion": "1.1",
            "targetPrefix": "Example",
            "serviceId": "Example",
            "endpointPrefix": "example",
            "signatureVersion": "v4",
        },
        "operations": {
            "Put": {
                "name": "Put",
                "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "PutIn"},
                "output": {"shape": "PutIn"},
            },
        },
        "shapes": {
            "PutIn": {
                "type": "structure",
                "required": ["Name"],
                "members": {
                    "Name": {"shape": "Name"},
                    "Data": {"shape": "Data"},
                    "Ratio": {"shape": "Ratio"},
                    "Count": {"shape": "Count"},
                    "At": {"shape": "At"},
                    "Labels": {"shape": "Labels"},
                    "Matrix": {"shape": "Matrix"},
                    "Secret": {"shape": "Secret"},
                    "Renamed": {"shape": "Name", "locationName": "renamed"},
                },
            },
            "Name": {"type": "string", "min": 2, "max": 8, "pattern": "[a-z]+"},
            "Data": {"type": "blob", "max": 4},
            "Ratio": {"type": "double", "min": 0, "max": 1},
            "Count": {"type": "long", "min": 1},
            "At": {"type": "timestamp"},
            "Labels": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Count"}, "max": 2},
            "Matrix": {"type": "list", "member": {"shape": "Row"}},
            "Row": {"type": "list", "member": {"shape": "Count"}, "min": 1},
            "Secret": {"type": "string", "sensitive": True, "max": 3},
        },
    },
    service_name="example",
)
PUT = EXAMPLE.operation_model("Put")


# --- round trips for every operation --------------------------------------------------------


@pytest.mark.parametrize(("service", "op_name"), [*JSON_OPS, ("example", "Put")])
@SLOW_OK
@given(data=st.data())
def test_botocore_requests_parse_back_to_their_input(service: str, op_name: str, data: st.DataObject) -> None:
    op = PUT if service == "example" else operation_model(service, op_name)
    value = data.draw(inputs(op))
    assert parse_json(op, botocore_body(op, value)) == value


@pytest.mark.parametrize(("service", "op_name"), [*JSON_OPS, ("example", "Put")])
@SLOW_OK
@given(data=st.data())
def test_botocore_parses_our_responses(service: str, op_name: str, data: st.DataObject) -> None:
    op = PUT if service == "example" else operation_model(service, op_name)
    value = data.draw(outputs(op))
    parsed = botocore_parse(op.output_shape, serialize_json_response(op, value))
    parsed.pop("ResponseMetadata")
    assert parsed == value


@settings(max_examples=200, deadline=None)
@given(code=st.from_regex(r"[A-Z][A-Za-z]{0,30}", fullmatch=True), message=st.text(ANY_TEXT, max_size=200))
def test_botocore_reads_code_and_message_of_our_errors(code: str, message: str) -> None:
    body, headers = serialize_json_error(code, message)
    parsed = botocore_parse(None, body, headers, status=400)
    assert parsed["Error"] == {"Code": code, "Message": message}
    rest_json = botocore.parsers.create_parser("rest-json")  # keys on x-amzn-ErrorType
    response = {"body": body, "headers": HeadersDict(headers), "status_code": 400}
    assert rest_json.parse(response, None)["Error"]["Code"] == code


def test_error_body_headers_and_modeled_fields() -> None:
    body, headers = serialize_json_error("InvalidInputException", "bad", fields={"Reason": "INVALID_PATTERN"})
    assert json.loads(body) == {
        "__type": "InvalidInputException",
        "message": "bad",
        "Reason": "INVALID_PATTERN",
    }
    assert headers == {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-ErrorType": "InvalidInputException",
    }
    shape = service_model("organizations").shape_for("InvalidInputException")
    assert botocore_parse(shape, body, headers, status=400) == {"Reason": "INVALID_PATTERN"}


# --- responses -------------------------------------------------------------------------------


def test_timestamps_are_epoch_seconds_with_milliseconds() -> None:
    op = operation_model("organizations", "DescribeAccount")
    joined = datetime(2016, 12, 15, 19, 30, 15, 481500, tzinfo=UTC)
    body = serialize_json_response(
        op, {"Account": {"Id": "111111111111", "JoinedTimestamp": joined, "Arn": None}}
    )
    assert body == b'{"Account":{"Id":"111111111111","JoinedTimestamp":1481830215.481}}'
    whole = serialize_json_response(op, {"Account": {"JoinedTimestamp": joined.replace(microsecond=0)}})
    assert whole == b'{"Account":{"JoinedTimestamp":1481830215}}'
    assert serialize_json_response(operation_model("organizations", "DeleteOrganization"), {}) == b"{}"


@pytest.mark.parametrize(
    "result",
    [
        {"Account": []},
        {"Account": {"Id": 1}},
        {"Account": {"JoinedTimestamp": 1.5}},
        {"Account": {"Paths": "p"}},
    ],
)
def test_a_result_of_the_wrong_shape_is_an_internal_failure(result: dict[str, Any]) -> None:
    with pytest.raises(InternalFailure):
        serialize_json_response(operation_model("organizations", "DescribeAccount"), result)


def test_unknown_target_is_unknown_operation_exception() -> None:
    with pytest.raises(ClientError) as caught:
        operation_model("organizations", "DescribeAcount")
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "UnknownOperationException",
        400,
        "",
    )


# --- validation ------------------------------------------------------------------------------

ORG = "organizations"


def invalid_input(op_name: str, document: dict[str, Any]) -> InvalidInputException:
    with pytest.raises(InvalidInputException) as caught:
        parse_json(operation_model(ORG, op_name), json.dumps(document).encode())
    assert (caught.value.code, caught.value.status, caught.value.sender) == (
        "InvalidInputException",
        400,
        True,
    )
    return caught.value


REQUIRED = "You must include a value for all required parameters."
PATTERN = "You provided a value that does not match the required pattern."  # as AWS sent it (public issue)
ACCOUNT = "111111111111"


@pytest.mark.parametrize(
    ("op_name", "document", "reason", "message"),
    [
        ("DescribeAccount", {"AccountId": "abc"}, "INVALID_PATTERN", PATTERN),
        ("DescribeAccount", {}, "INPUT_REQUIRED", REQUIRED),
        ("DescribeAccount", {"AccountId": None}, "INPUT_REQUIRED", REQUIRED),
        ("ListPolicies", {"Filter": "SCP"}, "INVALID_ENUM", "You specified an invalid value."),
        (
            "ListAccounts",
            {"MaxResults": 0},
            "MIN_VALUE_EXCEEDED",
            "You provided a numeric parameter that has a smaller value than allowed.",
        ),
        (
            "ListAccounts",
            {"MaxResults": 21},
            "MAX_VALUE_EXCEEDED",
            "You provided a numeric parameter that has a larger value than allowed.",
        ),
        (
            "CreateAccount",
            {"Email": "a@b.cd", "AccountName": "n" * 51},
            "MAX_LENGTH_EXCEEDED",
            "You provided a string parameter that is longer than allowed.",
        ),
        (
            "TagResource",
            {"ResourceId": ACCOUNT, "Tags": [{"Key": "k", "Value": "a?b"}]},
            "INVALID_PATTERN",
            PATTERN,
        ),
        ("TagResource", {"ResourceId": ACCOUNT, "Tags": [None]}, "INPUT_REQUIRED", REQUIRED),
    ],
)
def test_organizations_reports_the_first_violation_as_a_reason(
    op_name: str, document: dict[str, Any], reason: str, message: str
) -> None:
    error = invalid_input(op_name, document)
    assert (error.reason, error.fields, error.message) == (reason, {"Reason": reason}, message)


def test_other_json_services_answer_coral_validation_exception() -> None:
    document = {
        "Name": "A",
        "Data": "AAAAAAAA",
        "Count": 0,
        "Labels": {"ab": 1, "cd": 2, "x": 3},
        "Secret": "hush!",
    }
    with pytest.raises(ClientError) as caught:
        parse_json(PUT, json.dumps(document).encode())
    assert caught.value.code == "ValidationException"
    assert caught.value.message == (
        "7 validation errors detected: "
        "Value 'A' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-z]+; "
        "Value 'A' at 'name' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2; "
        "Value at 'data' failed to satisfy constraint: "
        "Member must have length less than or equal to 4; "
        "Value '0' at 'count' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value '{ab=1, cd=2, x=3}' at 'labels' failed to satisfy constraint: "
        "Member must have length less than or equal to 2; "
        "Value 'x' at 'labels.3.key' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2; "
        "Value at 'secret' failed to satisfy constraint: "
        "Member must have length less than or equal to 3"
    )


def test_types_names_and_unknown_fields() -> None:
    body = b'{"Name":"ab","Ratio":1,"At":1481830215.481,"Data":"AAE=","renamed":"cd","Unknown":{"x":[1]}}'
    assert parse_json(PUT, body) == {
        "Name": "ab",
        "Ratio": 1.0,
        "At": datetime(2016, 12, 15, 19, 30, 15, 481000, tzinfo=UTC),
        "Data": b"\x00\x01",
        "Renamed": "cd",
    }
    assert parse_json(operation_model(ORG, "ListRoots"), b"") == {}
    assert parse_json(operation_model(ORG, "DeleteOrganization"), b"{}") == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"MaxResults":"5"}', "STRING_VALUE can not be converted to an Integer"),  # SQS's wording
        (b'{"MaxResults":true}', "BOOLEAN_VALUE can not be converted to an Integer"),
        (b'{"MaxResults":1.5}', "NUMBER_VALUE can not be converted to an Integer"),
        (b'{"MaxResults":4294967296}', "NUMBER_VALUE can not be converted to an Integer"),
        (b'{"NextToken":{"a":1}}', "Start of structure or map found where not expected."),
        (b'{"NextToken":[1]}', "Start of list found where not expected"),
        (b"[]", "Start of list found where not expected"),
        (b'"x"', "STRING_VALUE can not be converted to a Structure"),
        (b'{"MaxResults":NaN}', "The request body is not valid JSON."),
        (b"{", "The request body is not valid JSON."),
        (b'{"a":"\xff"}', "The request body is not valid JSON."),
        (b"[" * 100_000, "The request body is not valid JSON."),
        (b'{"NextToken":' + b"9" * 5000 + b"}", "The request body is not valid JSON."),
    ],
)
def test_malformed_bodies_are_serialization_exceptions(body: bytes, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        parse_json(operation_model(ORG, "ListAccounts"), body)
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "SerializationException",
        400,
        message,
    )


def test_blob_and_timestamp_type_errors() -> None:
    for document, message in [
        ({"Name": "ab", "Data": "not base64!"}, "Base64 encoded data expected for a Blob."),
        ({"Name": "ab", "At": "yesterday"}, "STRING_VALUE can not be converted to a Timestamp"),
        ({"Name": "ab", "At": 1e300}, "NUMBER_VALUE can not be converted to a Timestamp"),
        ({"Name": "ab", "Matrix": [[1], 2]}, "NUMBER_VALUE can not be converted to a List"),
    ]:
        with pytest.raises(ClientError, match=re.escape(message)):
            parse_json(PUT, json.dumps(document).encode())


# --- malformed input -------------------------------------------------------------------------


def member_names(op: Any) -> list[str]:
    names: set[str] = {"x"}

    def walk(shape: Any, depth: int) -> None:
        if depth > 4:
            return
        if shape.type_name == "structure":
            for name, ref in shape.members.items():
                names.add(name)
                walk(ref, depth + 1)
        elif shape.type_name == "list":
            walk(shape.member, depth + 1)
        elif shape.type_name == "map":
            walk(shape.value, depth + 1)

    if op.input_shape is not None:
        walk(op.input_shape, 0)
    return sorted(names)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.sampled_from(["", "111111111111", "ou-ab12-abcdefgh", "r-ab12", "AAE=", "SERVICE_CONTROL_POLICY"]),
)  # fmt: skip


@st.composite
def malformed_bodies(draw: st.DrawFn) -> tuple[Any, bytes]:
    op = draw(st.sampled_from([*(operation_model(s, o) for s, o in JSON_OPS), PUT]))
    keys = st.sampled_from(member_names(op))
    documents = st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
        max_leaves=20,
    )
    cut = draw(st.floats(0, 1))
    body = draw(
        st.one_of(
            documents.map(lambda d: json.dumps(d).encode()),
            st.dictionaries(keys, documents, max_size=6).map(lambda d: json.dumps(d).encode()),
            st.binary(max_size=60),
            inputs(op).map(lambda v: botocore_body(op, v)).map(lambda b: b[: int(len(b) * cut)]),
        )
    )
    return op, body


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(request=malformed_bodies())
def test_malformed_bodies_only_raise_client_errors(request: tuple[Any, bytes]) -> None:
    op, body = request
    try:
        parse_json(op, body)
    except AwsError as error:
        assert 400 <= error.status < 500 and error.sender
        assert error.code in ("SerializationException", "InvalidInputException", "ValidationException")
