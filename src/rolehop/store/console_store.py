"""The console's tables and their SQLAlchemy implementation of services.ports.console's ConsoleTx
(and of UserSessionsTx, which SqlTx mixes in).

The tables sit on the shared `schema.metadata`, so migrations, the schema test and
`/_rolehop/reset` see them like every other table; migration 0004 creates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    LargeBinary,
    Row,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from rolehop.services.ports.console import ConsoleSession, RoleHistoryEntry
from rolehop.store.conflicts import answered_when_unreachable
from rolehop.store.schema import metadata
from rolehop.store.trail_store import TrailSqlMixin

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("principal_name", String(128), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("user_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE")),
    Column("user_token", Text),
    Column("role_token", Text),
    Column("role_arn", String(2048)),
    Column("role_display_name", String(64)),
    Column("role_color", String(6)),
    Column("pending_mfa", LargeBinary),
    Column("issuer", String(2048)),
)
Index("ix_console_sessions_expires", console_sessions.c.expires_at)

console_role_history = Table(
    "console_role_history",
    metadata,
    Column("user_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", String(12), primary_key=True),
    Column("role_key", String(128), primary_key=True),  # lower-cased: role names ignore case
    Column("role_name", String(128), nullable=False),
    Column("display_name", String(64), nullable=False),
    Column("color", String(6), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False),
)

console_signin_tokens = Table(
    "console_signin_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite drops the zone


def _session(row: Row[Any]) -> ConsoleSession:
    d = dict(row._mapping)
    d["created_at"], d["expires_at"] = _utc(d["created_at"]), _utc(d["expires_at"])
    return ConsoleSession(**d)


def _entry(row: Row[Any]) -> RoleHistoryEntry:
    d = dict(row._mapping)
    d.pop("role_key")
    d["used_at"] = _utc(d["used_at"])
    return RoleHistoryEntry(**d)


def _values(session: ConsoleSession) -> dict[str, Any]:
    return {f: getattr(session, f) for f in ConsoleSession.__dataclass_fields__}


class UserSessionsSqlMixin:
    """services.ports.console.UserSessionsTx, mixed into store.sql.SqlTx: sessions end in the same
    transaction as the credential change that ends them."""

    c: Connection

    def end_console_sessions(self, user_id: str, *, keep: str = "") -> int:
        s = console_sessions.c
        result = self.c.execute(delete(console_sessions).where(s.user_id == user_id, s.session_id != keep))
        return int(result.rowcount or 0)


class SqlConsoleTx(TrailSqlMixin):  # a console change appends its audit record in its transaction
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def insert_session(self, session: ConsoleSession) -> None:
        self.c.execute(insert(console_sessions).values(_values(session)))

    def get_session(self, session_id: str) -> ConsoleSession | None:
        row = self.c.execute(
            select(console_sessions).where(console_sessions.c.session_id == session_id)
        ).first()
        return _session(row) if row else None

    def update_session(self, session: ConsoleSession) -> None:
        s = console_sessions.c
        self.c.execute(
            update(console_sessions).where(s.session_id == session.session_id).values(_values(session))
        )

    def delete_session(self, session_id: str) -> None:
        self.c.execute(delete(console_sessions).where(console_sessions.c.session_id == session_id))

    def delete_expired_sessions(self, now: datetime) -> int:
        result = self.c.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
        return int(result.rowcount or 0)

    def put_role_history(self, entry: RoleHistoryEntry) -> None:
        h = console_role_history.c
        key = entry.role_name.lower()
        values = {
            "user_id": entry.user_id,
            "account_id": entry.account_id,
            "role_key": key,
            "role_name": entry.role_name,
            "display_name": entry.display_name,
            "color": entry.color,
            "used_at": entry.used_at,
        }
        found = self.c.execute(
            update(console_role_history)
            .where(h.user_id == entry.user_id, h.account_id == entry.account_id, h.role_key == key)
            .values(values)
        )
        if found.rowcount == 0:
            self.c.execute(insert(console_role_history).values(values))

    def role_history(self, user_id: str) -> list[RoleHistoryEntry]:
        h = console_role_history.c
        rows = self.c.execute(
            select(console_role_history).where(h.user_id == user_id).order_by(h.used_at.desc(), h.role_key)
        )
        return [_entry(r) for r in rows]

    def delete_role_history(self, user_id: str, account_id: str, role_name: str) -> None:
        h = console_role_history.c
        self.c.execute(
            delete(console_role_history).where(
                h.user_id == user_id, h.account_id == account_id, h.role_key == role_name.lower()
            )
        )

    def use_signin_token(self, token_id: str, expires_at: datetime) -> bool:
        try:
            with self.c.begin_nested():
                self.c.execute(insert(console_signin_tokens).values(token_id=token_id, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    def delete_expired_signin_tokens(self, now: datetime) -> None:
        self.c.execute(delete(console_signin_tokens).where(console_signin_tokens.c.expires_at <= now))


class SqlConsoleStore:
    """Shares the main store's engine (and so its database and migrations)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def sharing(cls, store: object) -> SqlConsoleStore:
        engine = getattr(store, "engine", None)
        if not isinstance(engine, Engine):
            raise TypeError(f"{store!r} has no SQLAlchemy engine to share")
        return cls(engine)

    @contextmanager
    def transaction(self) -> Iterator[SqlConsoleTx]:
        with answered_when_unreachable(), self.engine.begin() as conn:
            yield SqlConsoleTx(conn)
