"""Documents IAM stores but nothing can read fail closed when compiled leniently."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from rolehop.core.errors import MalformedPolicyDocument
from rolehop.core.policy import PolicySet, Request, evaluate, parse_policy

UNREADABLE_DATE = {"DateGreaterThan": {"aws:CurrentTime": "01T"}}


def doc(effect: str, condition: Mapping[str, object]) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": "s3:*", "Resource": "*", "Condition": condition}],
    }


def decide(*policies: dict[str, object]) -> str:
    compiled = tuple(parse_policy(p, lenient=True) for p in policies)
    request = Request(
        "arn:aws:iam::111122223333:user/u",
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        "111122223333",
        {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
    )
    return evaluate(request, PolicySet(identity=compiled)).decision


def test_strict_compile_refuses_what_it_cannot_read() -> None:
    with pytest.raises(MalformedPolicyDocument):
        parse_policy(doc("Allow", UNREADABLE_DATE))


def test_unreadable_allow_grants_nothing() -> None:
    assert decide(doc("Allow", UNREADABLE_DATE)) == "ImplicitlyDenied"
    assert decide(doc("Allow", {"x": {}})) == "ImplicitlyDenied"


def test_unreadable_deny_still_denies() -> None:
    allow = doc("Allow", {})
    assert decide(allow) == "Allowed"
    assert decide(allow, doc("Deny", UNREADABLE_DATE)) == "ExplicitlyDenied"
