"""Console sign-in: account, user name and password; then the MFA code when the user has a device;
then a new password when one is due. Each step ends in a session whose identity is the user's own
temporary credentials, marked MFA-authenticated only when a code was given.

Passwords and codes are checked by iam.login_profiles and pipeline.mfa_check, which also throttle
failures per user and per source address, and hold a user name that many addresses guess at (a
Throttling answer). The code may come with the password, in one step: that is how a user with an
MFA device signs in while the name is held.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from rolehop.core.entities import Identity
from rolehop.core.errors import AccessDenied
from rolehop.core.ids import is_account_id
from rolehop.core.session_token import SessionClaims
from rolehop.services.iam.login_profiles import SIGN_IN_FAILED, sign_in_with_password
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.mfa_check import verify_user_code
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.console import ConsoleSession
from rolehop.services.signin.sessions import Console, create_session, invoke, revoke_session, save_session
from rolehop.services.sts.credentials import issue_credentials

USER_SESSION_SECONDS = 43200  # AWS: an IAM user's console session lasts 12 hours
MFA_STEP_SECONDS = 300  # time to type the MFA code after the password
NO_ACCOUNT = "000000000000"  # stands in for an unknown account so that the answer and its cost are the same


def account_id_for(rt: Runtime, text: str) -> str | None:
    """An account of this organization by 12-digit ID (dashes and spaces allowed) or by alias."""
    text = text.strip()
    digits = text.replace("-", "").replace(" ", "")
    with rt.store.transaction() as tx:
        if is_account_id(digits):
            return digits if tx.get_account(digits) is not None else None
        account = tx.account_by_alias(text.lower())
    return account.account_id if account else None


def account_label(rt: Runtime, account_id: str) -> str:
    """How the console names an account: its alias when it has one, else its ID."""
    with rt.store.transaction() as tx:
        account = tx.get_account(account_id)
    return account.alias if account is not None and account.alias else account_id


def user_token(rt: Runtime, user: Identity, *, now: datetime, seconds: int, mfa: bool) -> str:
    """The signed-in user's temporary credentials, sealed like any session token. They never leave
    the server: the console keeps them in the session and builds every page's Call from them."""
    issued = int(now.timestamp())
    claims = SessionClaims(
        access_key_id="",
        account_id=user.account_id,
        principal_arn=user.arn,
        user_id=user.unique_id,
        kind="user",
        issued_at=issued,
        expires_at=issued + seconds,
        source_arn=user.arn,
        mfa_authenticated=mfa,
        mfa_auth_time=issued if mfa else None,
        token_kind="console",
    )
    return str(issue_credentials(rt, claims)["SessionToken"])


def _password_due(rt: Runtime, user: Identity, now: datetime) -> tuple[bool, int]:
    """(must the user choose a new password now, how long the session may last)."""
    with rt.store.transaction() as tx:
        profile = tx.get_login_profile(user.unique_id)
        policy = tx.get_password_policy(user.account_id)
    if profile is None:
        raise AccessDenied(SIGN_IN_FAILED)  # the password was removed meanwhile
    due = profile.password_reset_required or (
        policy is not None and policy.expired(profile.password_changed_at, now)
    )
    return due, profile.max_signin_session_duration or USER_SESSION_SECONDS


def _signed_in(console: Console, user: Identity, *, mfa: bool) -> tuple[str, ConsoleSession]:
    rt = console.rt
    now = rt.clock()
    due, seconds = _password_due(rt, user, now)
    return create_session(
        console,
        account_id=user.account_id,
        principal_name=user.name,
        stage="password" if due else "active",
        expires_at=now + timedelta(seconds=seconds),
        user_id=user.unique_id,
        user_token=user_token(rt, user, now=now, seconds=seconds, mfa=mfa),
    )


def sign_in(
    console: Console,
    account: str,
    user_name: str,
    password: str,
    *,
    source_ip: str,
    mfa_code: str | None = None,
) -> tuple[str, ConsoleSession]:
    """Checks the password (and the MFA code, when one comes with it). Returns the new session (stage
    "mfa" when a code is still due). Raises AccessDenied with one message whatever was wrong,
    LimitExceeded while throttled, or Throttling while the user name is held."""
    rt = console.rt
    account_id = account_id_for(rt, account) or NO_ACCOUNT
    checked = sign_in_with_password(
        rt, account_id, user_name.strip(), password, now=rt.clock(), source_ip=source_ip, mfa_code=mfa_code
    )
    user = checked.user
    if checked.mfa_authenticated:
        return _signed_in(console, user, mfa=True)
    if checked.mfa_required:
        return create_session(
            console,
            account_id=user.account_id,
            principal_name=user.name,
            stage="mfa",
            expires_at=rt.clock() + timedelta(seconds=MFA_STEP_SECONDS),
            user_id=user.unique_id,
        )
    return _signed_in(console, user, mfa=False)


def complete_mfa(
    console: Console, session: ConsoleSession, code: str, *, source_ip: str
) -> tuple[str, ConsoleSession]:
    """Checks the code of the user's MFA device; the signed-in session replaces the waiting one
    (a new cookie, so a cookie planted before sign-in never becomes a signed-in session)."""
    rt = console.rt
    if session.stage != "mfa" or session.user_id is None:
        raise AccessDenied(SIGN_IN_FAILED)
    with rt.store.transaction() as tx:
        user = tx.get_identity_by_id(session.user_id)
    if user is None:
        raise AccessDenied(SIGN_IN_FAILED)
    verify_user_code(rt, user, None, code.strip(), now=rt.clock(), source_ip=source_ip)
    revoke_session(console, session.session_id)
    return _signed_in(console, user, mfa=True)


def change_password(
    console: Console, session: ConsoleSession, call: Call, old: str, new: str
) -> ConsoleSession:
    """iam:ChangePassword as the signed-in user; a session waiting for a new password becomes active."""
    invoke(call, "iam", "ChangePassword", {"OldPassword": old, "NewPassword": new})
    if session.stage == "password":
        session = replace(session, stage="active")
        save_session(console, session)
    return session
