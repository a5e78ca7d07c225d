"""Temporary credentials as STS hands them out: the sealed session token, its key ID and secret.
Every operation that issues credentials (AssumeRole, GetSessionToken, the console's sign-in and
federation) ends here, so they all have the same shape and the same secrets discipline."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolehop.core.ids import TEMPORARY_KEY_PREFIX, access_key_id
from rolehop.core.session_token import SessionClaims, seal_token, temporary_secret
from rolehop.services.pipeline.runtime import Runtime


def issue_credentials(rt: Runtime, claims: SessionClaims) -> dict[str, Any]:
    """Fills in the access key ID, seals the claims, and returns STS's Credentials shape."""
    key_id = access_key_id(TEMPORARY_KEY_PREFIX, claims.account_id, rt.random(5))
    claims = replace(claims, access_key_id=key_id, salt=rt.random(12).hex())
    token = seal_token(rt.ring, claims, nonce=rt.random(12))
    rt.meter.credentials_issued()
    return {
        "AccessKeyId": key_id,
        "SecretAccessKey": temporary_secret(rt.ring, rt.ring.active_key_id, claims),
        "SessionToken": token,
        "Expiration": claims.expiration,
    }
