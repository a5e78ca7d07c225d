"""The federation endpoint: a console session from CLI credentials, with AWS's rules.

`getSigninToken` takes the temporary credentials as `Session={"sessionId", "sessionKey",
"sessionToken"}` — only AssumeRole (or GetFederationToken) credentials, as AWS; GetSessionToken's
are refused with AWS's message — and an optional `SessionDuration` of 900..43200 seconds. It answers
a sign-in token, sealed with the key ring, that `login` accepts once within 15 minutes. The console
session then lasts SessionDuration, or as long as the credentials when it was not given, and its
identity is a fresh session of the same role (AWS: "a distinct AccessKeyId due to federation").
Anyone may call it: a Session that is not such credentials, however malformed or deeply nested its
JSON, is AWS's 400 "Invalid credentials parameter".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from rolehop.core.bounded_json import load_json
from rolehop.core.errors import AwsError
from rolehop.core.keyring import UnsealError
from rolehop.core.session_token import SessionClaims, open_token, temporary_secret
from rolehop.services.pipeline.authenticate import caller_from_claims
from rolehop.services.pipeline.caller import Caller
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.console import ConsoleSession
from rolehop.services.ports.trail import TrailEvent
from rolehop.services.signin import trail
from rolehop.services.signin.sessions import Console, Visit, create_session
from rolehop.services.signin.switch_role import DISPLAY_NAME_MAX, color_of
from rolehop.services.sts.credentials import issue_credentials

SIGNIN_TOKEN_SECONDS = 900
SESSION_DURATION_MIN, SESSION_DURATION_MAX = 900, 43200
CHAINED_MAX = 3600
TOKEN_PURPOSE = b"rolehop/console-signin-token/v1"
ONLY_ROLE_TOKENS = (
    "Only federation tokens or assume role tokens may be used for federated login. "
    "Please contact your administrator."
)
INVALID_CREDENTIALS = "Invalid credentials parameter: the Session is not valid temporary credentials."


class FederationError(Exception):
    """A refused federation request: 400 with the message, never a detail of the credentials."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # JSON's "\ud800" is a str that plain UTF-8 refuses


def _credentials(console: Console, session_param: str) -> tuple[str, SessionClaims, Caller]:
    """The session token, its claims and principal, once the Session's key ID and secret match them
    (whether the credentials may be used is `_usable`'s question)."""
    try:
        given: Any = load_json(session_param)  # bounded: `[[[…` is refused, not a RecursionError
    except ValueError as e:
        raise FederationError(INVALID_CREDENTIALS) from e
    if not isinstance(given, dict):
        raise FederationError(INVALID_CREDENTIALS)
    key_id, secret, token = (given.get(k) for k in ("sessionId", "sessionKey", "sessionToken"))
    if not all(isinstance(v, str) and v for v in (key_id, secret, token)):
        raise FederationError(INVALID_CREDENTIALS)
    assert isinstance(key_id, str) and isinstance(secret, str) and isinstance(token, str)
    ring = console.rt.ring
    try:
        sealing_key, claims = open_token(ring, token)
    except UnsealError as e:
        raise FederationError(INVALID_CREDENTIALS) from e
    expected = temporary_secret(ring, sealing_key, claims)
    same_key = hmac.compare_digest(_utf8(key_id), claims.access_key_id.encode())
    if not (hmac.compare_digest(_utf8(secret), expected.encode()) and same_key):
        raise FederationError(INVALID_CREDENTIALS)
    try:
        principal = caller_from_claims(console.rt, claims)  # the user or role still exists
    except AwsError as e:
        raise FederationError(INVALID_CREDENTIALS) from e
    return token, claims, principal


def _usable(claims: SessionClaims, now: datetime) -> None:
    if claims.expired(now):
        raise FederationError("The security token included in the request is expired")
    if claims.token_kind not in ("role", "federation"):
        raise FederationError(ONLY_ROLE_TOKENS)


def _duration(text: str | None, claims: SessionClaims) -> int | None:
    if text is None or text == "":
        return None
    try:
        seconds = int(text)
    except ValueError as e:
        raise FederationError("SessionDuration must be a number of seconds.") from e
    if not SESSION_DURATION_MIN <= seconds <= SESSION_DURATION_MAX:
        raise FederationError(
            f"SessionDuration must be between {SESSION_DURATION_MIN} and {SESSION_DURATION_MAX} seconds."
        )
    if claims.token_kind == "federation":
        raise FederationError("SessionDuration cannot be used with GetFederationToken credentials.")
    if claims.chained and seconds > CHAINED_MAX:
        raise FederationError(
            "The requested SessionDuration exceeds the 1 hour session limit "
            "for roles assumed by role chaining."
        )
    return seconds


def get_signin_token(
    console: Console, session_param: str, duration: str | None = None, *, visit: Visit | None = None
) -> str:
    """`Action=getSigninToken`: the sign-in token for credentials. Raises FederationError. Recorded as
    GetSigninToken in the credentials' account once they are genuine, refused or not."""
    rt = console.rt
    visit = visit or Visit()
    now = rt.clock()
    token, claims, principal = _credentials(console, session_param)
    try:
        _usable(claims, now)
        seconds = _duration(duration, claims)
    except FederationError as e:
        rt.trail.record([_token_event(rt, principal, visit, e.message)])
        raise
    payload = json.dumps({"token": token, "duration": seconds, "issued": int(now.timestamp())}).encode()
    sealed = _b64(rt.ring.seal(payload, purpose=TOKEN_PURPOSE, nonce=rt.random(12)))
    rt.trail.record([_token_event(rt, principal, visit, None)])
    return sealed


def _token_event(rt: Runtime, principal: Caller, visit: Visit, error: str | None) -> TrailEvent:
    return trail.get_signin_token(
        rt, principal, error_message=error, source_ip=visit.source_ip, user_agent=visit.user_agent
    )


def login(
    console: Console,
    signin_token: str,
    *,
    issuer: str | None,
    display_name: str | None = None,
    color: str | None = None,
    visit: Visit | None = None,
) -> tuple[str, ConsoleSession]:
    """`Action=login`: a console session as the role, once per sign-in token, within 15 minutes,
    committed with its ConsoleLogin (in the role's account, as the role session). A genuine token that
    is refused (expired, used before) is recorded as a failed ConsoleLogin.

    Beyond AWS, `DisplayName` and `Color` (as on Switch Role) name the session in the header, so
    `rolehop console production-admin` lands looking like a switched role."""
    rt = console.rt
    visit = visit or Visit()
    now = rt.clock()
    try:
        blob = _unb64(signin_token)
        _kid, raw = rt.ring.open(blob, purpose=TOKEN_PURPOSE)
        data = json.loads(raw)
        issued = datetime.fromtimestamp(int(data["issued"]), now.tzinfo)
        token, seconds = str(data["token"]), data["duration"]
        _kid, claims = open_token(rt.ring, token)
    except (binascii.Error, ValueError, KeyError, TypeError, UnsealError) as e:
        raise FederationError("The sign-in token is not valid.") from e
    try:
        principal = caller_from_claims(rt, claims)
    except AwsError as e:  # the role is gone: nobody to record it for
        raise FederationError("The sign-in token is not valid.") from e
    try:
        expires = issued + timedelta(seconds=SIGNIN_TOKEN_SECONDS)
        if not issued - timedelta(seconds=60) <= now < expires:
            raise FederationError("The sign-in token has expired: sign-in tokens are valid for 15 minutes.")
        with console.store.transaction() as tx:
            tx.delete_expired_signin_tokens(now)
            if not tx.use_signin_token(hashlib.sha256(blob).hexdigest(), expires):
                raise FederationError("The sign-in token has already been used.")
        if claims.expired(now):  # the credentials must still be good when the token is used
            raise FederationError("The security token included in the request is expired")
    except FederationError as e:
        rt.trail.record([_login_event(rt, principal, visit, e.message)])
        raise
    ends = now + timedelta(seconds=seconds) if seconds else claims.expiration
    console_claims = replace(claims, issued_at=int(now.timestamp()), expires_at=int(ends.timestamp()))
    role_token = str(issue_credentials(rt, console_claims)["SessionToken"])
    session_principal = replace(principal, claims=console_claims)
    role_name = claims.source_arn.rsplit("/", 1)[-1]
    return create_session(
        console,
        account_id=claims.account_id,
        principal_name=claims.session_name or role_name,
        stage="active",
        expires_at=ends,
        role_token=role_token,
        role_arn=claims.source_arn,
        role_display_name=(display_name or "").strip()[:DISPLAY_NAME_MAX]
        or f"{role_name}/{claims.session_name}"[:64],
        role_color=color_of(color) or None,
        issuer=issuer
        if issuer and issuer.startswith(("https://", "http://")) and len(issuer) <= 2048
        else None,
        events=[_login_event(rt, session_principal, visit, None)],
    )


def _login_event(rt: Runtime, principal: Caller, visit: Visit, error: str | None) -> TrailEvent:
    return trail.federated_login(
        rt,
        principal,
        error_message=error,
        source_ip=visit.source_ip,
        user_agent=visit.user_agent,
        login_to=visit.url,
    )
