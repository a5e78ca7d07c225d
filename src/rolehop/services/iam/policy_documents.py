"""Checking a policy document before it is stored: IAM's validation, then the engine must compile it."""

from __future__ import annotations

from urllib.parse import unquote

from rolehop.core.errors import ValidationError
from rolehop.core.policy import parse_policy
from rolehop.core.policy.validate import PolicyKind, validate_policy

INVALID_ARN = "Invalid ARN:  Could not be parsed!"


def checked_document(document: str, kind: PolicyKind, max_chars: int | None, *, managed: bool = True) -> str:
    """Returns the document as stored (as sent) after IAM's checks; raises MalformedPolicyDocument."""
    validate_policy(document, kind, max_chars=max_chars, managed=managed)
    parse_policy(
        document, name="new", lenient=True
    )  # fail closed: what the evaluator cannot compile is never stored
    return document


def checked_policy_arn(policy_arn: str) -> str:
    parts = policy_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("policy/"):
        raise ValidationError(INVALID_ARN)
    return policy_arn


def decoded(document: str) -> str:
    """Some clients send the document URL-encoded, as IAM returns it; IAM accepts both."""
    stripped = document.lstrip()
    return unquote(document) if stripped.startswith("%7B") or stripped.startswith("%7b") else document
