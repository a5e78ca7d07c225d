"""STS: GetCallerIdentity, GetSessionToken, GetAccessKeyInfo (AssumeRole lives in sts_assume_role)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolehop.core.errors import AccessDenied, InvalidParameterValue
from rolehop.core.ids import TEMPORARY_KEY_PREFIX, access_key_id, account_of_key_id
from rolehop.core.session_token import SessionClaims, seal_token, temporary_secret
from rolehop.services.authorize import authorize
from rolehop.services.call import Call
from rolehop.services.mfa_check import check_mfa
from rolehop.services.registry import Params, Result, operation
from rolehop.services.runtime import Runtime

SESSION_TOKEN_DEFAULT = 43200
ROOT_SESSION_MAX = 3600


def issue_credentials(rt: Runtime, claims: SessionClaims) -> dict[str, Any]:
    """Fills in the access key ID, seals the claims, and returns STS's Credentials shape."""
    key_id = access_key_id(TEMPORARY_KEY_PREFIX, claims.account_id, rt.random(5))
    claims = replace(claims, access_key_id=key_id, salt=rt.random(12).hex())
    token = seal_token(rt.ring, claims, nonce=rt.random(12))
    return {
        "AccessKeyId": key_id,
        "SecretAccessKey": temporary_secret(rt.ring, rt.ring.active_key_id, claims),
        "SessionToken": token,
        "Expiration": claims.expiration,
    }


@operation("sts", "GetCallerIdentity")
def get_caller_identity(call: Call, p: Params) -> Result:
    # needs no permission: AWS answers even when every policy denies it
    caller = call.caller
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


@operation("sts", "GetSessionToken")
def get_session_token(call: Call, p: Params) -> Result:
    caller = call.caller
    if caller.claims is not None:
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    duration = int(
        p.get("DurationSeconds") or (ROOT_SESSION_MAX if caller.is_root else SESSION_TOKEN_DEFAULT)
    )
    if caller.is_root:
        duration = min(duration, ROOT_SESSION_MAX)  # AWS shortens root sessions to one hour silently
    mfa = False
    if p.get("SerialNumber") or p.get("TokenCode"):
        check_mfa(call, p.get("SerialNumber"), p.get("TokenCode"))
        mfa = True
    now = int(call.now.timestamp())
    claims = SessionClaims(
        access_key_id="",
        account_id=caller.account_id,
        principal_arn=caller.arn,
        user_id=caller.user_id,
        kind=caller.kind,
        issued_at=now,
        expires_at=now + duration,
        source_arn=caller.arn,
        mfa_authenticated=mfa,
        mfa_auth_time=now if mfa else None,
        token_kind="session",
    )
    return {"Credentials": issue_credentials(call.runtime, claims)}


@operation("sts", "GetAccessKeyInfo")
def get_access_key_info(call: Call, p: Params) -> Result:
    authorize(call, "sts:GetAccessKeyInfo", "*")
    key_id = p["AccessKeyId"]
    account = account_of_key_id(key_id)
    if account is None:
        with call.runtime.store.transaction() as tx:
            key = tx.get_key(key_id)
        if key is None:
            raise InvalidParameterValue(f"Access key {key_id} is not a valid access key.")
        account = key.account_id
    return {"Account": account}
