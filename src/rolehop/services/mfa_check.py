"""MFA codes on STS calls. Virtual MFA devices arrive with the MFA issue; until then no device
exists, so every code fails as AWS fails an unknown serial number."""

from __future__ import annotations

from rolehop.core.errors import AccessDenied
from rolehop.services.call import Call

MFA_FAILED = (
    "MultiFactorAuthentication failed, unable to validate MFA code. "
    "Please verify your MFA serial number is valid and associated with this user."
)


def check_mfa(call: Call, serial_number: str | None, token_code: str | None) -> None:
    raise AccessDenied(MFA_FAILED)
