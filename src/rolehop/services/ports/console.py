"""What the web console keeps, and the storage port it keeps it through.

Console sessions live on the server: the browser holds only a random cookie whose SHA-256 is the
session's key, so a copy of the database opens no session, and deleting a session ends it on every
node at once (a change of the user's password or MFA device deletes the user's other sessions). A
session holds the signed-in user's temporary credentials (the same sealed SessionClaims the API
uses) and, once switched, the role session's; the role history is kept per user, so it follows the
user across browsers.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from rolehop.services.ports.trail import TrailTx

# "mfa": the password was right, the MFA code is still due; "password": a new password is due
# (PasswordResetRequired or an expired password); "active": signed in.
Stage = Literal["mfa", "password", "active"]


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    session_id: str  # hex SHA-256 of the cookie value: the cookie itself is never stored
    account_id: str  # the account signed in to (the role's account for a federated session)
    principal_name: str  # the user's name, or the role session's name for a federated session
    stage: Stage
    created_at: datetime
    expires_at: datetime
    user_id: str | None = None  # the IAM user; None for a session opened by the federation endpoint
    user_token: str | None = None  # the user's sealed session claims (None until the MFA code is in)
    role_token: str | None = None  # the sealed claims of the role switched to, or of the federated role
    role_arn: str | None = None
    role_display_name: str | None = None
    role_color: str | None = None  # a palette colour, hex without '#'
    pending_mfa: bytes | None = None  # an unfinished MFA enrolment (serial and seed), sealed
    issuer: str | None = None  # the federation Issuer: where a federated user goes when the session ends

    @property
    def federated(self) -> bool:
        return self.user_id is None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class RoleHistoryEntry:
    user_id: str
    account_id: str
    role_name: str  # with its path when it has one ("team/admin")
    display_name: str
    color: str  # "" for none
    used_at: datetime


class UserSessionsTx(Protocol):
    """What IAM's credential operations do to console sessions, in their own transaction (part of
    ports.store.Tx): a new or removed password or MFA device ends the user's other sessions."""

    def end_console_sessions(self, user_id: str, *, keep: str = "") -> int:
        """Deletes every console session of the user (half-way signed-in ones too) except the session
        `keep`; returns how many ended."""
        ...


class ConsoleTx(TrailTx, Protocol):
    # (a console change appends its audit record in its own transaction: TrailTx)
    # sessions
    def insert_session(self, session: ConsoleSession) -> None: ...
    def get_session(self, session_id: str) -> ConsoleSession | None: ...
    def update_session(self, session: ConsoleSession) -> None: ...
    def delete_session(self, session_id: str) -> None: ...
    def delete_expired_sessions(self, now: datetime) -> int: ...

    # role history, newest first, per user
    def put_role_history(self, entry: RoleHistoryEntry) -> None:
        """Adds the entry or, for the same account and role name (ignoring case), replaces it."""
        ...

    def role_history(self, user_id: str) -> list[RoleHistoryEntry]: ...
    def delete_role_history(self, user_id: str, account_id: str, role_name: str) -> None: ...

    # federation sign-in tokens are accepted once
    def use_signin_token(self, token_id: str, expires_at: datetime) -> bool:
        """Records the token as used; False when it was used before (on any node)."""
        ...

    def delete_expired_signin_tokens(self, now: datetime) -> None: ...


class ConsoleStore(Protocol):
    def transaction(self) -> AbstractContextManager[ConsoleTx]: ...
