"""Query protocol (IAM, STS) against botocore itself: botocore serializes every operation's
requests for our parser, and parses our responses and errors."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode

import botocore.parsers
import botocore.serialize
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolehop.core.errors import (
    AwsError,
    InternalFailure,
    InvalidAction,
    InvalidParameterValue,
    ValidationError,
)
from rolehop.wire.models import input_plan, operation_model, service_model
from rolehop.wire.query import IAM_XMLNS, parse_query, serialize_query_error, serialize_query_response
from shape_strategies import scalar_strategy, string_strategy

QUERY_OPS = [(svc, op) for svc in ("iam", "sts") for op in service_model(svc).operation_names]
SERIALIZER = botocore.serialize.create_serializer("query")
PARSER = botocore.parsers.create_parser("query")
SLOW_OK = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# --- strategies from botocore shapes (shared in spirit with test_json_codec.py) -----------

# Response text also carries tab, newline and carriage return (which XML must escape).
OUT_TEXT = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc"),
    include_characters="\t\n\r",
    exclude_characters="\ufffe\uffff",
)


def value_strategy(shape: Any, *, valid: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of `shape`: valid inputs (constraints honoured) or any outputs (types only)."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        if depth > 4 or not members:
            return st.just({})
        parts = {name: value_strategy(ref, valid=valid, depth=depth + 1) for name, ref in members.items()}
        if valid and shape.metadata.get("union"):
            return st.one_of(*(st.fixed_dictionaries({n: s}) for n, s in parts.items()))
        required = set(shape.required_members) if valid else set()
        strategy = st.fixed_dictionaries(
            {n: s for n, s in parts.items() if n in required},
            optional={n: s for n, s in parts.items() if n not in required},
        )
        # An empty nested structure does not exist on the Query wire; keep inputs non-empty.
        return strategy.filter(bool) if valid and depth else strategy
    if kind in ("list", "map"):
        low = shape.metadata.get("min", 0) if valid else 0
        high = max(low, min(shape.metadata.get("max", 3), 3)) if valid else (0 if depth > 4 else 3)
        if kind == "list":
            return st.lists(
                value_strategy(shape.member, valid=valid, depth=depth + 1), min_size=low, max_size=high
            )
        keys = value_strategy(shape.key, valid=valid, depth=depth + 1)
        low = max(low, 1) if valid else low  # like an empty structure, an empty map sends nothing
        return st.dictionaries(
            keys, value_strategy(shape.value, valid=valid, depth=depth + 1), min_size=low, max_size=high
        )
    if kind == "string":
        return string_strategy(shape) if valid else st.text(OUT_TEXT, max_size=20)
    scalar = scalar_strategy(shape, valid=valid)
    if scalar is not None:
        return scalar
    raise AssertionError(f"no strategy for {kind}")


@functools.cache
def inputs(service: str, op_name: str) -> st.SearchStrategy[Any]:
    shape = operation_model(service, op_name).input_shape
    return st.just({}) if shape is None else value_strategy(shape, valid=True)


@functools.cache
def outputs(service: str, op_name: str) -> st.SearchStrategy[Any]:
    shape = operation_model(service, op_name).output_shape
    return st.just({}) if shape is None else value_strategy(shape, valid=False)


def form(op_name: str, service: str, value: dict[str, Any]) -> dict[str, str]:
    """What the ASGI app hands over: botocore's request, form-encoded and decoded again."""
    body = SERIALIZER.serialize_to_request(value, operation_model(service, op_name))["body"]
    return dict(parse_qsl(urlencode(body), keep_blank_values=True))


def parse_response(op: Any, body: bytes, status: int = 200) -> dict[str, Any]:
    shape = op.output_shape if status == 200 else None
    parsed: dict[str, Any] = PARSER.parse({"body": body, "headers": {}, "status_code": status}, shape)
    return parsed


# --- round trips for every operation --------------------------------------------------------


@pytest.mark.parametrize(("service", "op_name"), QUERY_OPS)
@SLOW_OK
@given(data=st.data())
def test_botocore_requests_parse_back_to_their_input(service: str, op_name: str, data: st.DataObject) -> None:
    value = data.draw(inputs(service, op_name))
    op = operation_model(service, op_name)
    assert parse_query(op, form(op_name, service, value)) == value


@pytest.mark.parametrize(("service", "op_name"), QUERY_OPS)
@SLOW_OK
@given(data=st.data())
def test_botocore_parses_our_responses(service: str, op_name: str, data: st.DataObject) -> None:
    value = data.draw(outputs(service, op_name))
    op = operation_model(service, op_name)
    parsed = parse_response(op, serialize_query_response(op, value, "req-1"))
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert parsed == value


@settings(max_examples=200, deadline=None)
@given(
    code=st.text(OUT_TEXT, min_size=1, max_size=30),
    message=st.text(OUT_TEXT, min_size=1, max_size=200),
    sender=st.booleans(),
)
def test_botocore_reads_code_and_message_of_our_errors(code: str, message: str, sender: bool) -> None:
    body = serialize_query_error(code, message, sender=sender, request_id="req-9")
    parsed = parse_response(operation_model("iam", "GetUser"), body, status=400)
    assert parsed["Error"] == {"Type": "Sender" if sender else "Receiver", "Code": code, "Message": message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"


def test_error_envelope_is_the_aws_one() -> None:
    body = serialize_query_error("NoSuchEntity", "a <b> & 'c'", sender=True, request_id="r1")
    assert (
        body
        == (
            f'<ErrorResponse xmlns="{IAM_XMLNS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>'
            "<Message>a &lt;b&gt; &amp; 'c'</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
        ).encode()
    )
    sts = serialize_query_error(
        "X", "y", sender=False, request_id="r", xmlns="https://sts.amazonaws.com/doc/2011-06-15/"
    )
    assert sts.startswith(
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver'
    )


# --- envelopes and scalar formats ------------------------------------------------------------


def test_sts_response_envelope() -> None:
    op = operation_model("sts", "GetCallerIdentity")
    body = serialize_query_response(op, {"Account": "123456789012", "Arn": None}, "r-1")
    assert body == (
        b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
        b"<Account>123456789012</Account></GetCallerIdentityResult>"
        b"<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    )


def test_operation_without_output_has_only_metadata() -> None:
    op = operation_model("iam", "DeleteUser")
    body = serialize_query_response(op, {}, "r-2")
    assert (
        body
        == (
            f'<DeleteUserResponse xmlns="{IAM_XMLNS}"><ResponseMetadata><RequestId>r-2</RequestId>'
            "</ResponseMetadata></DeleteUserResponse>"
        ).encode()
    )


def test_lists_maps_booleans_and_timestamps_are_written_like_iam() -> None:
    op = operation_model("iam", "ListUsers")
    created = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    user = {"Path": "/", "UserName": "alice", "UserId": "AIDA1", "Arn": "arn", "CreateDate": created}
    body = serialize_query_response(op, {"Users": [user], "IsTruncated": False}, "r")
    assert b"<Users><member><Path>/</Path><UserName>alice</UserName>" in body
    assert (
        b"<CreateDate>2024-05-01T12:00:00Z</CreateDate></member></Users><IsTruncated>false</IsTruncated>"
        in body
    )
    summary = serialize_query_response(
        operation_model("iam", "GetAccountSummary"), {"SummaryMap": {"Users": 3}}, "r"
    )
    assert b"<SummaryMap><entry><key>Users</key><value>3</value></entry></SummaryMap>" in summary


def test_timestamps_keep_milliseconds_and_read_naive_as_utc() -> None:
    op = operation_model("sts", "GetSessionToken")
    expires = datetime(2011, 7, 15, 23, 28, 33, 359999, tzinfo=UTC)
    creds = {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": expires}
    assert b"<Expiration>2011-07-15T23:28:33.359Z</Expiration>" in serialize_query_response(
        op, {"Credentials": creds}, "r"
    )
    naive = creds | {"Expiration": datetime(2011, 7, 15, 23, 28, 33)}
    assert b"<Expiration>2011-07-15T23:28:33Z</Expiration>" in serialize_query_response(
        op, {"Credentials": naive}, "r"
    )
    shifted = creds | {"Expiration": datetime(2011, 7, 16, 1, 28, 33, tzinfo=timezone(timedelta(hours=2)))}
    assert b"2011-07-15T23:28:33Z" in serialize_query_response(op, {"Credentials": shifted}, "r")


def test_text_xml_cannot_carry_becomes_replacement_character() -> None:
    op = operation_model("iam", "GetUser")
    user = {
        "Path": "/",
        "UserName": "a\x00b\ufffe",
        "UserId": "x\r\ny",
        "Arn": "]]>",
        "CreateDate": datetime.now(UTC),
    }
    parsed = parse_response(op, serialize_query_response(op, {"User": user}, "r"))
    assert parsed["User"]["UserName"] == "a\ufffdb\ufffd"
    assert parsed["User"]["UserId"] == "x\r\ny"
    assert parsed["User"]["Arn"] == "]]>"


@pytest.mark.parametrize(
    "result",
    [{"User": "not a structure"}, {"User": {"UserName": 5}}, {"User": {"CreateDate": "2024-01-01"}}],
)
def test_a_result_of_the_wrong_shape_is_an_internal_failure(result: dict[str, Any]) -> None:
    with pytest.raises(InternalFailure):
        serialize_query_response(operation_model("iam", "GetUser"), result, "r")


# --- models ----------------------------------------------------------------------------------


def test_unknown_actions_answer_like_iam_and_sts() -> None:
    with pytest.raises(InvalidAction, match=r"^Could not find operation ListUser for version 2010-05-08$"):
        operation_model("iam", "ListUser")
    with pytest.raises(InvalidAction, match=r"^Could not find operation assumeRole for version 2011-06-15$"):
        operation_model("sts", "assumeRole")
    with pytest.raises(ValueError, match="does not serve"):
        service_model("s3")


def test_plans_are_built_once_per_operation() -> None:
    op = operation_model("iam", "CreateUser")
    assert operation_model("iam", "CreateUser") is op
    assert input_plan(op) is input_plan(op)


# --- validation messages ---------------------------------------------------------------------

ROLE = "arn:aws:iam::123456789012:role/demo"


def validation_message(service: str, op_name: str, params: dict[str, str]) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_query(operation_model(service, op_name), params)
    assert (caught.value.code, caught.value.status, caught.value.sender) == ("ValidationError", 400, True)
    return caught.value.message


def test_missing_required_member_is_value_null() -> None:
    assert validation_message("iam", "CreateUser", {"Action": "CreateUser", "Version": "2010-05-08"}) == (
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_too_long_name() -> None:
    assert validation_message("iam", "CreateUser", {"UserName": "u" * 65}) == (
        f"1 validation error detected: Value '{'u' * 65}' at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )


def test_pattern_messages_match_aws() -> None:
    # Both messages as AWS STS and IAM returned them (quoted in public issue reports).
    assert validation_message("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "a:b"}) == (
        "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )
    value = (
        "SourceIP: 86.16.135.208, UserAgent: aws-cli/2.1.17 Python/3.7.4 Darwin/20.3.0 exe/x86_64 "
        "prompt/off command/iam.create-user"
    )
    tags = {f"Tags.member.{i}.{k}": f"{k}{i}" for i in range(1, 6) for k in ("Key", "Value")}
    params = {"UserName": "u", **tags, "Tags.member.6.Key": "k6", "Tags.member.6.Value": value}
    assert validation_message("iam", "CreateUser", params) == (
        f"1 validation error detected: Value '{value}' at 'tags.6.member.value' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
    )


def test_several_errors_are_counted_and_joined_in_member_order() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "a:b" * 30, "DurationSeconds": "600"}
    assert validation_message("sts", "AssumeRole", params) == (
        "3 validation errors detected: "
        f"Value '{'a:b' * 30}' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*; "
        f"Value '{'a:b' * 30}' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64; "
        "Value '600' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_enum_and_list_length() -> None:
    message = validation_message(
        "iam", "UpdateAccessKey", {"AccessKeyId": "AKIAEXAMPLE12345", "Status": "On"}
    )
    assert message.endswith(
        "Value 'On' at 'status' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Active, Inactive, Expired]"
    )
    tags = {f"Tags.member.{i}.{k}": f"{k[0]}{i}" for i in range(1, 52) for k in ("Key", "Value")}
    message = validation_message("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "s1", **tags})
    assert message.startswith(
        "1 validation error detected: Value '[{Key: K1, Value: V1}, {Key: K2, Value: V2}, "
    )
    assert message.endswith(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )


def test_sensitive_values_are_never_echoed() -> None:
    message = validation_message("iam", "CreateLoginProfile", {"UserName": "u", "Password": "\x01secret"})
    assert "secret" not in message
    assert (
        "Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern"
        in message
    )
    with pytest.raises(InvalidParameterValue) as caught:
        parse_query(
            operation_model("sts", "AssumeRole"),
            {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "x"},
        )
    assert (
        caught.value.message
        == "Value 'x' for parameter DurationSeconds is invalid. Reason: not a valid integer."
    )


def test_patterns_follow_java_semantics() -> None:
    assume_role = operation_model("sts", "AssumeRole")
    with pytest.raises(ValidationError, match="roleSessionName"):  # Java's \w is ASCII
        parse_query(assume_role, {"RoleArn": ROLE, "RoleSessionName": "sessión"})
    unicode_tag = {"Tags.member.1.Key": "ключ", "Tags.member.1.Value": "värde 値 ٣"}  # \p{L} \p{Z} \p{N}
    parsed = parse_query(assume_role, {"RoleArn": ROLE, "RoleSessionName": "s1", **unicode_tag})
    assert parsed["Tags"] == [{"Key": "ключ", "Value": "värde 値 ٣"}]
    with pytest.raises(ValidationError, match=r"tags\.1\.member\.key"):
        parse_query(
            assume_role,
            {"RoleArn": ROLE, "RoleSessionName": "s1", "Tags.member.1.Key": "a#", "Tags.member.1.Value": ""},
        )


# --- parameter decoding ----------------------------------------------------------------------


def test_lists_maps_and_ignored_parameters() -> None:
    params = {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "X-Amz-Security-Token": "t",
        "RoleArn": ROLE,
        "RoleSessionName": "s1",
        "Tags.member.2.Key": "b",
        "Tags.member.2.Value": "2",
        "Tags.member.10.Key": "c",
        "Tags.member.10.Value": "3",
        "Tags.member.1.Key": "a",
        "Tags.member.1.Value": "1",
        "Tags.member.01.Key": "ignored: not an index",
        "TransitiveTagKeys": "",
        "Unknown.member.1": "x",
    }
    parsed = parse_query(operation_model("sts", "AssumeRole"), params)
    assert parsed == {
        "RoleArn": ROLE,
        "RoleSessionName": "s1",
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}],
        "TransitiveTagKeys": [],
    }
    properties = {"Properties.entry.1.key": "Mode", "Properties.entry.1.value": "strict"}
    assert parse_query(operation_model("iam", "PutAccountProperties"), properties) == {
        "Properties": {"Mode": "strict"}
    }


@pytest.mark.parametrize(
    ("op_name", "params", "fragment"),
    [
        (
            "GetSessionToken",
            {"DurationSeconds": "1e3"},
            "DurationSeconds is invalid. Reason: not a valid integer",
        ),
        ("GetSessionToken", {"DurationSeconds": "2147483648"}, "not a valid integer"),
        ("GetSessionToken", {"DurationSeconds": "١٢٣٤"}, "not a valid integer"),  # no non-ASCII digits
        ("GetSessionToken", {"DurationSeconds": ""}, "not a valid integer"),
        (
            "AssumeRole",
            {"RoleArn": ROLE, "RoleSessionName": "s1", "PolicyArns": "x"},
            "PolicyArns is invalid",
        ),
    ],
)
def test_values_of_the_wrong_type_are_invalid_parameter_values(
    op_name: str, params: dict[str, str], fragment: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape(fragment)) as caught:
        parse_query(operation_model("sts", op_name), params)
    assert (caught.value.code, caught.value.status) == ("InvalidParameterValue", 400)


def test_booleans_accept_either_case() -> None:
    op = operation_model("iam", "UpdateAccountPasswordPolicy")
    assert parse_query(op, {"RequireSymbols": "TRUE", "HardExpiry": "false"}) == {
        "RequireSymbols": True,
        "HardExpiry": False,
    }
    with pytest.raises(InvalidParameterValue):
        parse_query(op, {"RequireSymbols": "yes"})


# --- malformed input -------------------------------------------------------------------------


@functools.cache
def wire_paths(service: str, op_name: str) -> list[str]:
    """Every parameter name the operation understands, with list and map indexes 1 and 2."""
    paths: list[str] = []

    def walk(shape: Any, prefix: str, depth: int) -> None:
        paths.append(prefix)
        if depth > 4:
            return
        if shape.type_name == "structure":
            for name, ref in shape.members.items():
                walk(ref, f"{prefix}.{name}" if prefix else name, depth + 1)
        elif shape.type_name == "list":
            for i in (1, 2):
                walk(shape.member, f"{prefix}.member.{i}", depth + 1)
        elif shape.type_name == "map":
            for i in (1, 2):
                walk(shape.key, f"{prefix}.entry.{i}.key", depth + 1)
                walk(shape.value, f"{prefix}.entry.{i}.value", depth + 1)

    shape = operation_model(service, op_name).input_shape
    if shape is not None:
        walk(shape, "", 0)
    return [p for p in paths if p] or ["Nothing"]


NASTY_VALUES = st.sampled_from(
    ["", "true", "FALSE", "-1", "0", "2147483648", "99999999999999999999999", "1e9", "NaN", "==", "AA=",
     "!", "2020-13-45T00:00:00Z", "2020-01-01T00:00:00+25:00", "9" * 5000, "\x00", "a" * 3000, "ñ"]
)  # fmt: skip


@st.composite
def malformed_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    service, op_name = draw(st.sampled_from(QUERY_OPS))
    paths = wire_paths(service, op_name)
    bad_index = draw(st.sampled_from([".0", ".-1", ".x", ".99999999999", ".1.2", ""]))
    mangled = st.sampled_from(paths).map(lambda p: re.sub(r"\.\d+", bad_index, p, count=1))
    keys = st.one_of(st.sampled_from(paths), mangled, st.text(max_size=20))
    values = st.one_of(NASTY_VALUES, st.text(max_size=40))
    return service, op_name, draw(st.dictionaries(keys, values, max_size=12))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=malformed_requests())
def test_malformed_parameters_only_raise_client_errors(request: tuple[str, str, dict[str, str]]) -> None:
    service, op_name, params = request
    try:
        parse_query(operation_model(service, op_name), params)
    except AwsError as error:
        assert 400 <= error.status < 500 and error.sender
        assert error.code in ("ValidationError", "InvalidParameterValue")
