"""Condition operators, one family at a time, after the IAM User Guide's "Condition operators"
and "Single-valued vs. multivalued context keys" pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from rolehop.core.errors import MalformedPolicyDocument
from rolehop.core.policy import PolicySet, Request, evaluate, parse_policy

USER = "arn:aws:iam::123456789012:user/alice"


def allowed(
    condition: Mapping[str, Any],
    context: Mapping[str, str | Sequence[str]] | None = None,
    *,
    version: str = "2012-10-17",
) -> bool:
    policy = parse_policy(
        {
            "Version": version,
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
            ],
        }
    )
    req = Request(USER, "s3:GetObject", "arn:aws:s3:::bucket/key", "123456789012", context or {})
    return evaluate(req, PolicySet(identity=(policy,))).allowed


class TestString:
    def test_equals_is_case_sensitive_and_literal(self) -> None:
        cond = {"StringEquals": {"aws:username": ["alice", "bob"]}}
        assert allowed(cond, {"aws:username": "bob"})
        assert not allowed(cond, {"aws:username": "Bob"})
        assert not allowed({"StringEquals": {"aws:username": "a*"}}, {"aws:username": "alice"})

    def test_not_equals(self) -> None:
        cond = {"StringNotEquals": {"aws:username": ["alice", "bob"]}}
        assert allowed(cond, {"aws:username": "carol"})
        assert not allowed(cond, {"aws:username": "alice"})

    def test_ignore_case(self) -> None:
        assert allowed({"StringEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": "alice"})
        assert not allowed(
            {"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": "Alice"}
        )
        assert allowed({"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": "bob"})

    def test_like_and_not_like(self) -> None:
        assert allowed({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/alice/"})
        assert allowed({"StringLike": {"s3:prefix": "v?"}}, {"s3:prefix": "v1"})
        assert not allowed({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "HOME/alice"})
        assert not allowed({"StringNotLike": {"s3:prefix": ["a*", "b*"]}}, {"s3:prefix": "apple"})
        assert allowed({"StringNotLike": {"s3:prefix": ["a*", "b*"]}}, {"s3:prefix": "cherry"})

    def test_keys_are_case_insensitive(self) -> None:
        assert allowed({"StringEquals": {"AWS:UserName": "alice"}}, {"aws:username": "alice"})
        assert allowed({"StringEquals": {"aws:PrincipalTag/Team": "x"}}, {"aws:principaltag/team": "x"})

    def test_json_numbers_and_booleans_are_strings(self) -> None:
        assert allowed({"StringEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "10"})
        assert allowed({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"})


class TestNumeric:
    @pytest.mark.parametrize(
        ("operator", "value", "expected"),
        [
            ("NumericEquals", "10", True),
            ("NumericEquals", "10.0", True),
            ("NumericEquals", "11", False),
            ("NumericNotEquals", "11", True),
            ("NumericNotEquals", "10", False),
            ("NumericLessThan", "9", True),
            ("NumericLessThan", "10", False),
            ("NumericLessThanEquals", "10", True),
            ("NumericLessThanEquals", "11", False),
            ("NumericGreaterThan", "11", True),
            ("NumericGreaterThan", "10", False),
            ("NumericGreaterThanEquals", "10", True),
            ("NumericGreaterThanEquals", "9", False),
        ],
    )
    def test_comparisons(self, operator: str, value: str, expected: bool) -> None:
        assert allowed({operator: {"s3:max-keys": "10"}}, {"s3:max-keys": value}) is expected

    def test_unreadable_request_value_matches_nothing(self) -> None:
        assert not allowed({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"})
        assert not allowed({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"})

    def test_unreadable_policy_value_is_malformed(self) -> None:
        with pytest.raises(MalformedPolicyDocument):
            allowed({"NumericLessThan": {"s3:max-keys": "ten"}})


class TestDate:
    def test_iso_and_epoch(self) -> None:
        cond = {"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}
        assert allowed(cond, {"aws:CurrentTime": "2024-01-01T00:00:01Z"})
        assert not allowed(cond, {"aws:CurrentTime": "2024-01-01T00:00:00Z"})
        assert allowed(cond, {"aws:CurrentTime": "1704067201"})  # epoch seconds
        assert allowed({"DateEquals": {"aws:EpochTime": "2024-01-01"}}, {"aws:EpochTime": "1704067200"})

    def test_offsets_and_fractions(self) -> None:
        cond = {"DateEquals": {"aws:CurrentTime": "2024-01-01T01:00:00+01:00"}}
        assert allowed(cond, {"aws:CurrentTime": "2024-01-01T00:00:00.000Z"})
        assert not allowed(cond, {"aws:CurrentTime": "2024-01-01T00:00:00.5Z"})

    @pytest.mark.parametrize(
        ("operator", "value", "expected"),
        [
            ("DateLessThan", "2023-12-31T23:59:59Z", True),
            ("DateLessThan", "2024-01-01T00:00:00Z", False),
            ("DateLessThanEquals", "2024-01-01T00:00:00Z", True),
            ("DateGreaterThanEquals", "2024-01-01", True),
            ("DateNotEquals", "2024-01-02", True),
            ("DateNotEquals", "2024-01-01", False),
        ],
    )
    def test_comparisons(self, operator: str, value: str, expected: bool) -> None:
        assert (
            allowed({operator: {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}, {"aws:CurrentTime": value})
            is expected
        )

    def test_bad_dates(self) -> None:
        assert not allowed({"DateLessThan": {"aws:CurrentTime": "2030-01-01"}}, {"aws:CurrentTime": "soon"})
        with pytest.raises(MalformedPolicyDocument):
            allowed({"DateLessThan": {"aws:CurrentTime": "2016-13-40"}})


class TestBoolBinaryNull:
    def test_bool(self) -> None:
        cond = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        assert allowed(cond, {"aws:MultiFactorAuthPresent": "TRUE"})
        assert not allowed(cond, {"aws:MultiFactorAuthPresent": "false"})
        assert not allowed(cond, {"aws:MultiFactorAuthPresent": "yes"})
        assert not allowed(cond, {})

    def test_bool_if_exists_passes_when_absent(self) -> None:
        cond = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}
        assert allowed(cond, {})
        assert not allowed(cond, {"aws:MultiFactorAuthPresent": "false"})

    def test_binary_equals_compares_decoded_bytes(self) -> None:
        cond = {"BinaryEquals": {"test:key": "QmluYXJ5"}}  # "Binary"
        assert allowed(cond, {"test:key": "QmluYXJ5"})
        assert not allowed(cond, {"test:key": "QmluYXJ6"})
        assert not allowed(cond, {"test:key": "not base64!"})

    def test_null(self) -> None:
        assert allowed({"Null": {"aws:TokenIssueTime": "true"}}, {})
        assert not allowed({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "x"})
        assert allowed({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "x"})
        assert allowed({"ForAllValues:Null": {"aws:TagKeys": "true"}}, {})

    def test_null_takes_no_if_exists(self) -> None:
        with pytest.raises(MalformedPolicyDocument):
            allowed({"NullIfExists": {"aws:TagKeys": "true"}})


class TestIp:
    def test_v4_and_v6_blocks(self) -> None:
        cond = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}
        assert allowed(cond, {"aws:SourceIp": "203.0.113.9"})
        assert allowed(cond, {"aws:SourceIp": "2001:db8::1"})
        assert not allowed(cond, {"aws:SourceIp": "198.51.100.1"})
        assert not allowed(cond, {"aws:SourceIp": "not-an-ip"})

    def test_bare_address_is_a_single_host(self) -> None:
        assert allowed({"IpAddress": {"aws:SourceIp": "10.0.0.1"}}, {"aws:SourceIp": "10.0.0.1"})
        assert not allowed({"IpAddress": {"aws:SourceIp": "10.0.0.1"}}, {"aws:SourceIp": "10.0.0.2"})

    def test_not_ip_address(self) -> None:
        cond = {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
        assert allowed(cond, {"aws:SourceIp": "198.51.100.1"})
        assert allowed(cond, {"aws:SourceIp": "2001:db8::1"})  # another family is outside the block
        assert not allowed(cond, {"aws:SourceIp": "203.0.113.1"})
        assert not allowed(cond, {"aws:SourceIp": "garbage"})

    def test_bad_block_is_malformed(self) -> None:
        with pytest.raises(MalformedPolicyDocument):
            allowed({"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}})


class TestArn:
    def test_like_matches_segment_by_segment(self) -> None:
        cond = {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:topic-*"}}
        assert allowed(cond, {"aws:SourceArn": "arn:aws:sns:eu-west-1:123456789012:topic-a"})
        assert not allowed(cond, {"aws:SourceArn": "arn:aws:sns:eu-west-1:999999999999:topic-a"})
        assert not allowed(cond, {"aws:SourceArn": "not-an-arn"})

    def test_equals_also_takes_wildcards(self) -> None:
        cond = {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}}
        assert allowed(cond, {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/admin"})

    def test_not_like(self) -> None:
        cond = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:*"}}
        assert allowed(cond, {"aws:PrincipalArn": "arn:aws:iam::999999999999:root"})
        assert not allowed(cond, {"aws:PrincipalArn": "arn:aws:iam::123456789012:root"})

    def test_policy_value_must_be_an_arn(self) -> None:
        with pytest.raises(MalformedPolicyDocument):
            allowed({"ArnLike": {"aws:SourceArn": "arn:::bucket"}})


class TestMissingKeysAndSets:
    def test_missing_key(self) -> None:
        assert not allowed({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, {})
        assert allowed({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}, {})  # negated: true
        assert allowed({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, {})

    def test_multivalued_key_needs_a_set_operator(self) -> None:
        ctx = {"aws:TagKeys": ["env", "team"]}
        assert not allowed({"StringEquals": {"aws:TagKeys": ["env", "team"]}}, ctx)
        assert allowed({"StringEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": ["env"]})  # one value is one

    def test_for_all_values(self) -> None:
        cond = {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}
        assert allowed(cond, {"aws:TagKeys": ["env", "team"]})
        assert allowed(cond, {"aws:TagKeys": "env"})
        assert not allowed(cond, {"aws:TagKeys": ["env", "owner"]})
        assert allowed(cond, {})  # vacuously true: the documented ForAllValues trap
        assert allowed(cond, {"aws:TagKeys": []})

    def test_for_any_value(self) -> None:
        cond = {"ForAnyValue:StringLike": {"aws:TagKeys": ["env*"]}}
        assert allowed(cond, {"aws:TagKeys": ["team", "environment"]})
        assert not allowed(cond, {"aws:TagKeys": ["team"]})
        assert not allowed(cond, {})
        assert allowed({"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["env*"]}}, {})

    def test_set_operators_with_negation(self) -> None:
        ctx = {"aws:TagKeys": ["env", "secret"]}
        assert not allowed({"ForAllValues:StringNotEquals": {"aws:TagKeys": "secret"}}, ctx)
        assert allowed({"ForAnyValue:StringNotEquals": {"aws:TagKeys": "secret"}}, ctx)

    def test_operators_and_keys_are_anded_values_ored(self) -> None:
        cond = {
            "StringEquals": {"aws:username": ["alice", "bob"], "aws:PrincipalTag/team": "x"},
            "Bool": {"aws:SecureTransport": "true"},
        }
        ctx = {"aws:username": "bob", "aws:PrincipalTag/team": "x", "aws:SecureTransport": "true"}
        assert allowed(cond, ctx)
        assert not allowed(cond, {**ctx, "aws:SecureTransport": "false"})
        assert not allowed(cond, {**ctx, "aws:PrincipalTag/team": "y"})

    @pytest.mark.parametrize(
        "operator",
        ["StringEqualz", "stringequals", "ForAnyValue::StringEquals", "ForSomeValues:StringEquals", "Fake"],
    )
    def test_unknown_operator_is_malformed(self, operator: str) -> None:
        with pytest.raises(MalformedPolicyDocument):
            allowed({operator: {"aws:username": "alice"}})


class TestVariables:
    def test_substitution(self) -> None:
        cond = {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}
        assert allowed(cond, {"aws:username": "alice", "s3:prefix": "home/alice/docs"})
        assert not allowed(cond, {"aws:username": "bob", "s3:prefix": "home/alice/docs"})

    def test_substituted_value_is_literal(self) -> None:
        cond = {"StringLike": {"s3:prefix": "home/${aws:username}"}}
        assert not allowed(cond, {"aws:username": "*", "s3:prefix": "home/alice"})
        assert allowed(cond, {"aws:username": "*", "s3:prefix": "home/*"})

    def test_missing_variable_matches_nothing_even_negated(self) -> None:
        assert not allowed({"StringEquals": {"s3:prefix": "${aws:username}"}}, {"s3:prefix": "x"})
        assert not allowed({"StringNotEquals": {"s3:prefix": "${aws:username}"}}, {"s3:prefix": "x"})

    def test_multivalued_variable_is_unresolved(self) -> None:
        ctx = {"aws:PrincipalTag/team": ["a", "b"], "s3:prefix": "a"}
        assert not allowed({"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team}"}}, ctx)

    def test_default_value(self) -> None:
        cond = {"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'shared'}"}}
        assert allowed(cond, {"s3:prefix": "shared"})
        assert allowed(cond, {"s3:prefix": "red", "aws:PrincipalTag/team": "red"})

    def test_special_characters(self) -> None:
        cond = {"StringLike": {"s3:prefix": "a${*}b${?}c${$}"}}
        assert allowed(cond, {"s3:prefix": "a*b?c$"})
        assert not allowed(cond, {"s3:prefix": "axxb1c$"})

    def test_ignore_case_applies_to_substituted_values(self) -> None:
        cond = {"StringEqualsIgnoreCase": {"aws:PrincipalTag/owner": "${aws:username}"}}
        assert allowed(cond, {"aws:username": "ALICE", "aws:PrincipalTag/owner": "alice"})

    def test_variables_in_typed_operators(self) -> None:
        cond = {"NumericLessThan": {"s3:max-keys": "${test:limit}"}}
        assert allowed(cond, {"test:limit": "10", "s3:max-keys": "5"})
        assert not allowed(cond, {"test:limit": "ten", "s3:max-keys": "5"})

    def test_version_2008_has_no_variables(self) -> None:
        cond = {"StringEquals": {"s3:prefix": "${aws:username}"}}
        assert allowed(cond, {"s3:prefix": "${aws:username}", "aws:username": "alice"}, version="2008-10-17")
        assert not allowed(cond, {"s3:prefix": "alice", "aws:username": "alice"}, version="2008-10-17")
