"""Write-time validation of policy documents, as IAM, STS and Organizations do it.

`validate_policy` returns None for a document AWS would store and raises otherwise:
`MalformedPolicyDocument` with AWS's message for a fault, `LimitExceeded` (or STS's
`ValidationError`) when the caller's size quota is exceeded. Pure: no I/O, stdlib only.

Kinds and the service whose behaviour each one follows:
- identity: IAM permissions policies. `managed=True` (the default) is CreatePolicy /
  CreatePolicyVersion, which require Version 2012-10-17; `managed=False` is
  Put{User,Group,Role}Policy, which also accept 2008-10-17 or no Version.
- trust: a role's trust policy (CreateRole, UpdateAssumeRolePolicy), parsed apart by IAM.
- session: session policies passed to AssumeRole* / GetFederationToken (IAM's grammar).
- resource: resource-based policies (Principal required).
- scp: Organizations service control policies; Organizations answers every fault with one
  message and the code `MalformedPolicyDocumentException` (the fault is attached as a note).
- rcp: Organizations resource control policies: IAM's grammar for resource-based policies, then
  the RCP rules of `validate_rcp` (Deny only, `Principal` "*", the services RCPs apply to);
  answered as SCPs are.

Size: IAM counts characters other than white space; Organizations and STS count every
character of the document as sent. Organizations' size fault is ConstraintViolationException with
the reason POLICY_CONTENT_LIMIT_EXCEEDED. The quotas below are AWS's defaults; callers pass the one
that applies (`max_chars`). Inline quotas apply to the sum of an entity's inline policies, so
the service computes that sum with `policy_size` and raises `inline_policy_too_large`.
"""

from __future__ import annotations

from typing import Literal

from rolehop.core.errors import (
    ClientError,
    ConstraintViolationException,
    LimitExceeded,
    MalformedPolicyDocument,
    MalformedPolicyDocumentException,
    ValidationError,
)
from rolehop.core.policy.validate_iam import first_error as iam_first_error
from rolehop.core.policy.validate_rcp import first_error as rcp_first_error
from rolehop.core.policy.validate_rules import load_object
from rolehop.core.policy.validate_trust import first_error as trust_first_error

PolicyKind = Literal["identity", "trust", "resource", "scp", "rcp", "session"]
InlineOwner = Literal["user", "group", "role"]

MANAGED_POLICY_MAX = 6144  # IAM PolicySize, customer managed policy
USER_INLINE_MAX = 2048  # IAM UserPolicySize, all inline policies of a user together
GROUP_INLINE_MAX = 5120  # IAM GroupPolicySize
ROLE_INLINE_MAX = 10240  # IAM RolePolicySize
TRUST_POLICY_MAX = 2048  # IAM ACLSizePerRole (raisable to 4096 in AWS)
SCP_MAX = 5120  # Organizations, service control policy
RCP_MAX = 5120  # Organizations, resource control policy
SESSION_POLICY_MAX = 2048  # STS, inline session policy plaintext

SCP_MALFORMED = "The provided policy document does not meet the requirements of the specified policy type."
SCP_TOO_LARGE = "You attempted to create a policy that is larger than the maximum size."

_IAM_WHITESPACE = " \t\n\r"


def validate_policy(
    document: str, kind: PolicyKind, *, max_chars: int | None = None, managed: bool = True
) -> None:
    """Raise as AWS would when storing (or, for session policies, accepting) `document`.

    `max_chars` is the size quota that applies, counted as `policy_size` counts; None skips
    the size check. `managed` matters for identity policies only (see the module docstring).
    """
    if max_chars is not None and policy_size(document, kind) > max_chars:
        raise _too_large(kind, max_chars)
    if kind == "trust":
        message = trust_first_error(load_object(document))
    elif kind == "rcp":
        message = iam_first_error(document, "resource", require_current_version=False)
        message = message or rcp_first_error(document)
    else:
        message = iam_first_error(document, kind, require_current_version=kind == "identity" and managed)
    if message is None:
        return
    if kind in ("scp", "rcp"):
        error = MalformedPolicyDocumentException(SCP_MALFORMED)
        error.add_note(message)
        raise error
    raise MalformedPolicyDocument(message)


def policy_size(document: str, kind: PolicyKind = "identity") -> int:
    """The size AWS compares with the quota: characters other than white space for IAM
    (identity, trust, resource), every character for Organizations and STS (scp, rcp, session)."""
    if kind in ("scp", "rcp", "session"):
        return len(document)
    return sum(1 for c in document if c not in _IAM_WHITESPACE)


def inline_policy_too_large(owner: InlineOwner, name: str, limit: int) -> LimitExceeded:
    """IAM's error when the inline policies of a user, group or role together exceed `limit`."""
    return LimitExceeded(f"Maximum policy size of {limit} bytes exceeded for {owner} {name}")


def _too_large(kind: PolicyKind, limit: int) -> ClientError:
    if kind == "trust":
        return LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {limit}")
    if kind in ("scp", "rcp"):
        return ConstraintViolationException(SCP_TOO_LARGE, reason="POLICY_CONTENT_LIMIT_EXCEEDED")
    if kind == "session":
        return ValidationError(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )
    return LimitExceeded(f"Cannot exceed quota for PolicySize: {limit}")
