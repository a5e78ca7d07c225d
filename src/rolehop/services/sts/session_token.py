"""STS GetSessionToken: temporary credentials for an IAM user or root, MFA-authenticated when a
code is given. Its sessions are limited by check_session_scope (pipeline.authenticate)."""

from __future__ import annotations

from rolehop.core.errors import AccessDenied
from rolehop.core.session_token import SessionClaims
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.mfa_check import check_mfa
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.sts.credentials import issue_credentials

SESSION_TOKEN_DEFAULT = 43200
ROOT_SESSION_MAX = 3600


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
