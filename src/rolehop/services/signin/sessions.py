"""Console sessions: created, found, saved and revoked on the server; the cookie is only a key.

A session's identity is temporary credentials' claims, sealed as the API seals them, so every page
builds a `Call` exactly like a signed API request and the policy engine decides what it may do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rolehop.core.errors import AwsError
from rolehop.core.keyring import UnsealError
from rolehop.core.session_token import SessionClaims, open_token
from rolehop.services.pipeline.authenticate import caller_from_claims
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.caller import Caller
from rolehop.services.pipeline.perform import perform
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.console import ConsoleSession, ConsoleStore, ConsoleTx, Stage
from rolehop.services.ports.trail import TrailEvent

COOKIE_BYTES = 32
CSRF_LABEL = b"rolehop/console-csrf/"


class SessionEnded(Exception):
    """The session's credentials expired, or its user or role no longer exists: sign in again."""


@dataclass(frozen=True)
class Console:
    """What the console's services need: the runtime (store, key ring, clock) and the console's store."""

    rt: Runtime
    store: ConsoleStore


@dataclass(frozen=True)
class Visit:
    """Where a console request comes from and where it leads, as the audit trail records them."""

    source_ip: str = ""
    user_agent: str = ""
    url: str = ""  # the console page the step leads to (LoginTo, RedirectTo)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def session_id_of(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def new_cookie(rt: Runtime) -> str:
    return _b64(rt.random(COOKIE_BYTES))


def create_session(
    console: Console,
    *,
    account_id: str,
    principal_name: str,
    stage: Stage,
    expires_at: datetime,
    user_id: str | None = None,
    user_token: str | None = None,
    role_token: str | None = None,
    role_arn: str | None = None,
    role_display_name: str | None = None,
    role_color: str | None = None,
    issuer: str | None = None,
    events: Sequence[TrailEvent] = (),
) -> tuple[str, ConsoleSession]:
    """A new session and the cookie that finds it, committed with `events`' audit records (the
    ConsoleLogin). Expired sessions are swept at the same time."""
    now = console.rt.clock()
    cookie = new_cookie(console.rt)
    session = ConsoleSession(
        session_id=session_id_of(cookie),
        account_id=account_id,
        principal_name=principal_name,
        stage=stage,
        created_at=now,
        expires_at=expires_at,
        user_id=user_id,
        user_token=user_token,
        role_token=role_token,
        role_arn=role_arn,
        role_display_name=role_display_name,
        role_color=role_color,
        issuer=issuer,
    )
    with recording(console, events) as tx:
        tx.delete_expired_sessions(now)
        tx.insert_session(session)
    return cookie, session


def find_session(console: Console, cookie: str | None) -> ConsoleSession | None:
    """The live session a cookie names; None (and the session deleted) once it has expired."""
    if not cookie or len(cookie) > 256:
        return None
    session_id = session_id_of(cookie)
    with console.store.transaction() as tx:
        session = tx.get_session(session_id)
        if session is not None and session.expired(console.rt.clock()):
            tx.delete_session(session_id)
            return None
    return session


def save_session(console: Console, session: ConsoleSession, events: Sequence[TrailEvent] = ()) -> None:
    with recording(console, events) as tx:
        tx.update_session(session)


def revoke_session(console: Console, session_id: str, events: Sequence[TrailEvent] = ()) -> None:
    with recording(console, events) as tx:
        tx.delete_session(session_id)


@contextmanager
def recording(console: Console, events: Sequence[TrailEvent]) -> Iterator[ConsoleTx]:
    """A console transaction whose change is committed with `events`' audit records: a sign-in, a
    switch or a sign-out is never acknowledged without its record. This node's batched records are
    written first, so the trail keeps the order in which things happened here (CheckMfa, then the
    ConsoleLogin; AssumeRole, then the SwitchRole)."""
    rt = console.rt
    if events and rt.trail.enabled:
        rt.trail.flush()
    with console.store.transaction() as tx:
        yield tx
        rt.trail.append(tx, events)


def csrf_token(rt: Runtime, binding: str, key_id: str | None = None) -> str:
    """The form token of a session (or of a signed-out browser's sign-in cookie): an HMAC under the
    key ring's sealing key, so it is never stored and cannot be made without the ring."""
    return _b64(rt.ring.derive(key_id or rt.ring.active_key_id, CSRF_LABEL + binding.encode()))


def csrf_valid(rt: Runtime, binding: str, token: str) -> bool:
    """A token made under any key of the ring: a page loaded before a key was promoted still posts."""
    matches = [
        hmac.compare_digest(csrf_token(rt, binding, k).encode(), token.encode()) for k in rt.ring.key_ids
    ]
    return any(matches)  # every key compared, so the time does not say which one matched


def claims_of(rt: Runtime, token: str) -> SessionClaims:
    try:
        return open_token(rt.ring, token)[1]
    except UnsealError as e:
        raise SessionEnded("the session's credentials are not readable") from e


def caller_of(rt: Runtime, token: str) -> Caller:
    """The principal of a session's sealed credentials (the user, or the role session)."""
    try:
        return caller_from_claims(rt, claims_of(rt, token))
    except AwsError as e:  # the user or role was deleted since
        raise SessionEnded(e.message) from e


def call_for(
    console: Console,
    token: str,
    *,
    service: str = "iam",
    source_ip: str = "",
    secure: bool = False,
    session_id: str = "",
    user_agent: str = "",
) -> Call:
    """A Call as the principal of `token` from console session `session_id`, authorized by the policy
    engine like a signed API call."""
    rt = console.rt
    now = rt.clock()
    claims = claims_of(rt, token)
    if claims.expired(now):
        raise SessionEnded("the session's credentials have expired")
    try:
        caller = caller_from_claims(rt, claims)
    except AwsError as e:  # the user or role was deleted since
        raise SessionEnded(e.message) from e
    return Call(
        rt,
        caller,
        str(uuid.uuid4()),
        now,
        service,
        rt.settings.default_region,
        source_ip,
        secure,
        console_session_id=session_id,
        user_agent=user_agent,
    )


def invoke(
    call: Call, service: str, operation: str, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Runs an AWS operation's service function for the console, through the registry the API uses,
    recorded in the audit trail as the API's calls are."""
    return perform(replace(call, service=service), operation, lambda: dict(params or {}))
