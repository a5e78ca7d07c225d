"""The policy grammar: what compiles, what is a MalformedPolicyDocument, and the compiled form."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from rolehop.core.errors import MalformedPolicyDocument
from rolehop.core.policy import PolicySet, Request, evaluate, parse_policy

GOOD: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "example",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"},
        {
            "Effect": "Deny",
            "NotAction": "s3:*",
            "NotResource": ["arn:aws:s3:::b"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}


def test_compiles_from_json_text_and_mapping() -> None:
    a = parse_policy(json.dumps(GOOD), name="ro")
    b = parse_policy(GOOD)
    assert a.name == "ro" and a.version == "2012-10-17" and a.id == "example"
    assert [s.sid for s in a.statements] == ["Read", None] == [s.sid for s in b.statements]
    assert a.statements[1].not_action and a.statements[1].not_resource


def test_statement_may_be_a_single_object_and_version_defaults_to_2008() -> None:
    policy = parse_policy({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
    assert policy.version == "2008-10-17"
    assert len(policy.statements) == 1


def test_empty_statement_list_is_valid_and_grants_nothing() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": []})
    req = Request("arn:aws:iam::111111111111:user/a", "s3:GetObject", "arn:aws:s3:::b/k")
    assert evaluate(req, PolicySet(identity=(policy,))).decision == "ImplicitlyDenied"


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        {"Version": "2012-10-18", "Statement": []},
        {"Version": "2012-10-17"},
        {"Version": "2012-10-17", "Statement": [], "Extra": 1},
        {"Version": "2012-10-17", "Statement": ["text"]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]},
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "x:y", "Resource": "*"}],
        },
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"}],
        },
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 3, "Resource": "*"}]},
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}],
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": "x"}}
            ],
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"k": {"nested": 1}}},
                }
            ],
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": {"Alien": "x"}}
            ],
        },
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Unknown": "x"}],
        },
    ],
)
def test_malformed_documents(document: Any) -> None:
    with pytest.raises(MalformedPolicyDocument):
        parse_policy(document)


def test_compiled_policy_is_immutable_and_hashed_by_identity() -> None:
    a, b = parse_policy(GOOD), parse_policy(GOOD)
    assert a != b and len({a, b}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.statements[0].effect = "Deny"  # type: ignore[misc]


def test_principal_forms() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {
                    "AWS": [
                        "123456789012",
                        "arn:aws:iam::210987654321:root",
                        "arn:aws:iam::123456789012:role/path/r",
                        "arn:aws:iam::123456789012:user/u",
                    ],
                    "Service": "Lambda.amazonaws.com",
                    "Federated": "cognito-identity.amazonaws.com",
                    "CanonicalUser": "79a59df900b949e55d96a1e698fbaced",
                },
            }
        ],
    }
    spec = parse_policy(doc).statements[0].principal
    assert spec is not None
    assert spec.accounts == {"123456789012", "210987654321"}
    assert spec.roles == {("123456789012", "r")}
    assert spec.arns == {"arn:aws:iam::123456789012:user/u"}
    assert "lambda.amazonaws.com" in spec.others
