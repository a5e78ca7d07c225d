"""Console sign-in: account, user name and password; then the MFA code when the user has a device;
then a new password when one is due. Each step ends in a session whose identity is the user's own
temporary credentials, marked MFA-authenticated only when a code was given.

Passwords and codes are checked by iam.login_profiles and pipeline.mfa_check, which also throttle
failures per user and per source address, and hold a user name that many addresses guess at (a
Throttling answer). The code may come with the password, in one step: that is how a user with an
MFA device signs in while the name is held.

Every attempt on an account of the organization is in the audit trail (services.signin.trail):
CheckMfa once the password is right and a code is due, then ConsoleLogin, Success (committed with
the new session) or Failure; a name no user has is recorded as HIDDEN_DUE_TO_SECURITY_REASONS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from rolehop.core.entities import Identity
from rolehop.core.errors import AccessDenied, AwsError, LimitExceeded, Throttling
from rolehop.core.ids import is_account_id
from rolehop.core.session_token import SessionClaims
from rolehop.services.iam.login_profiles import SIGN_IN_FAILED, sign_in_with_password
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.mfa_check import verify_user_code
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.console import ConsoleSession
from rolehop.services.ports.trail import TrailEvent
from rolehop.services.signin import trail
from rolehop.services.signin.sessions import (
    Console,
    SessionEnded,
    Visit,
    caller_of,
    create_session,
    invoke,
    revoke_session,
    save_session,
)
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


def _signed_in(
    console: Console, user: Identity, *, mfa: bool, visit: Visit, before: Sequence[TrailEvent] = ()
) -> tuple[str, ConsoleSession]:
    """The signed-in session, committed with its ConsoleLogin (and `before` it, the CheckMfa)."""
    rt = console.rt
    now = rt.clock()
    due, seconds = _password_due(rt, user, now)
    login = trail.console_login(
        rt, user, mfa=mfa, source_ip=visit.source_ip, user_agent=visit.user_agent, login_to=visit.url
    )
    return create_session(
        console,
        account_id=user.account_id,
        principal_name=user.name,
        stage="password" if due else "active",
        expires_at=now + timedelta(seconds=seconds),
        user_id=user.unique_id,
        user_token=user_token(rt, user, now=now, seconds=seconds, mfa=mfa),
        events=[*before, login],
    )


def _refused(
    rt: Runtime,
    account_id: str,
    user_name: str,
    error: AwsError,
    *,
    user: Identity | None,
    mfa: bool,
    visit: Visit,
) -> None:
    """Records a refused sign-in (a wrong password or code, or a throttled attempt). A name no user
    of the account has is recorded as HIDDEN_DUE_TO_SECURITY_REASONS, never as typed."""
    if not isinstance(error, AccessDenied | LimitExceeded | Throttling):
        return  # the store out of reach, say: nothing was decided
    if user is None:
        with rt.store.transaction() as tx:
            user = tx.get_identity("user", account_id, user_name)
    rt.trail.record(
        [
            trail.failed_login(
                rt,
                account_id,
                user,
                mfa=mfa,
                throttled=not isinstance(error, AccessDenied),
                source_ip=visit.source_ip,
                user_agent=visit.user_agent,
                login_to=visit.url,
            )
        ]
    )


def sign_in(
    console: Console,
    account: str,
    user_name: str,
    password: str,
    *,
    source_ip: str,
    mfa_code: str | None = None,
    visit: Visit | None = None,
) -> tuple[str, ConsoleSession]:
    """Checks the password (and the MFA code, when one comes with it). Returns the new session (stage
    "mfa" when a code is still due). Raises AccessDenied with one message whatever was wrong,
    LimitExceeded while throttled, or Throttling while the user name is held. Every attempt on an
    account of this organization is recorded (ConsoleLogin, and CheckMfa before the code)."""
    rt = console.rt
    visit = visit or Visit(source_ip)
    account_id = account_id_for(rt, account)
    name = user_name.strip()
    try:
        checked = sign_in_with_password(
            rt,
            account_id or NO_ACCOUNT,
            name,
            password,
            now=rt.clock(),
            source_ip=source_ip,
            mfa_code=mfa_code,
        )
    except AwsError as e:
        if account_id is not None:  # no account, no event history to show it in
            _refused(rt, account_id, name, e, user=None, mfa=bool(mfa_code), visit=visit)
        raise
    user = checked.user
    if checked.mfa_authenticated or checked.mfa_required:
        check = trail.check_mfa(rt, user, source_ip=visit.source_ip, user_agent=visit.user_agent)
        if checked.mfa_authenticated:
            return _signed_in(console, user, mfa=True, visit=visit, before=[check])
        rt.trail.record([check])
        return create_session(
            console,
            account_id=user.account_id,
            principal_name=user.name,
            stage="mfa",
            expires_at=rt.clock() + timedelta(seconds=MFA_STEP_SECONDS),
            user_id=user.unique_id,
        )
    return _signed_in(console, user, mfa=False, visit=visit)


def complete_mfa(
    console: Console, session: ConsoleSession, code: str, *, source_ip: str, visit: Visit | None = None
) -> tuple[str, ConsoleSession]:
    """Checks the code of the user's MFA device; the signed-in session replaces the waiting one
    (a new cookie, so a cookie planted before sign-in never becomes a signed-in session)."""
    rt = console.rt
    visit = visit or Visit(source_ip)
    if session.stage != "mfa" or session.user_id is None:
        raise AccessDenied(SIGN_IN_FAILED)
    with rt.store.transaction() as tx:
        user = tx.get_identity_by_id(session.user_id)
    if user is None:
        raise AccessDenied(SIGN_IN_FAILED)
    try:
        verify_user_code(rt, user, None, code.strip(), now=rt.clock(), source_ip=source_ip)
    except AwsError as e:
        _refused(rt, user.account_id, user.name, e, user=user, mfa=True, visit=visit)
        raise
    revoke_session(console, session.session_id)
    return _signed_in(console, user, mfa=True, visit=visit)


def change_password(
    console: Console, session: ConsoleSession, call: Call, old: str, new: str
) -> ConsoleSession:
    """iam:ChangePassword as the signed-in user; a session waiting for a new password becomes active."""
    invoke(call, "iam", "ChangePassword", {"OldPassword": old, "NewPassword": new})
    if session.stage == "password":
        session = replace(session, stage="active")
        save_session(console, session)
    return session


def sign_out(console: Console, session: ConsoleSession, *, visit: Visit) -> None:
    """Ends the session, recorded as ConsoleLogout by whoever signed in (the user, or a federated
    session's role session). A session still waiting for its MFA code never signed in: no record."""
    events: list[TrailEvent] = []
    token = session.user_token or (session.role_token if session.federated else None)
    if token is not None and session.stage != "mfa":
        try:
            principal = caller_of(console.rt, token)
        except SessionEnded:
            pass  # the user is gone: nothing to record it for
        else:
            events.append(
                trail.console_logout(
                    console.rt, principal, source_ip=visit.source_ip, user_agent=visit.user_agent
                )
            )
    revoke_session(console, session.session_id, events)
