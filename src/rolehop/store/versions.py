"""The store's version: one counter that every write changing an authorization decision bumps, in
its own transaction, so that every node sharing the store drops its caches within a second.

A write is any INSERT, UPDATE or DELETE in a transaction, except on tables that no cache holds
(sign-in throttles, console sessions, the audit trail) and statements run with the execution option
`rolehop_bookkeeping=True` (a key's last use, an MFA code's step): those run on the hot path and
change no decision. The bump is the transaction's last statement, so the row lock it takes is held
only while it commits.

On PostgreSQL the bump also NOTIFYs one channel (delivered at commit, never before) and each node's
watcher LISTENs on its own connection; it reads the version row again every POLL_SECONDS, which
catches a notification missed while its connection was down. On SQLite (`serve --workers N`) the
watcher reads the row every SQLITE_POLL_SECONDS. A node's caches also expire after cache_seconds, the
bound when the watcher cannot reach the store at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    Table,
    event,
    insert,
    text,
    update,
)
from sqlalchemy.sql.dml import UpdateBase

from rolehop.store.schema import metadata

log = logging.getLogger("rolehop.store")

CHANNEL = "rolehop_store_version"
POLL_SECONDS = 0.5  # PostgreSQL: the fallback read, for a notification missed
SQLITE_POLL_SECONDS = 0.25  # SQLite has no notifications: a cheap read of one row, 4 times a second
RETRY_SECONDS = 1.0
BOOKKEEPING = "rolehop_bookkeeping"  # execution option: this write changes no decision
# tables no cache reads: writing them changes nothing another node may have cached
UNCACHED_TABLES = frozenset(
    {
        "auth_throttles",
        "console_sessions",
        "console_role_history",
        "console_signin_tokens",
        "create_account_requests",
        # the audit trail (denial explanations included): no cache holds it
        "trail_chains",
        "trail_events",
        "trail_resources",
        "trail_digests",
        "trail_signing_keys",
        "store_version",
    }
)
_WROTE = "rolehop_wrote"  # Connection.info key: this transaction changed a decision

store_version = Table(
    "store_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)


def _note_write(
    conn: Connection, statement: Any, _multi: Any, _params: Any, options: Any, _result: Any
) -> None:
    if (
        isinstance(statement, UpdateBase)
        and not options.get(BOOKKEEPING)
        and getattr(statement.table, "name", None) not in UNCACHED_TABLES
    ):
        conn.info[_WROTE] = True


def track_writes(engine: Engine) -> None:
    """Notes, on the connection, every write that may change what a node has cached."""
    event.listen(engine, "after_execute", _note_write)


def begin_tracking(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)  # the info outlives the transaction: it belongs to the pooled connection


def bump_if_written(conn: Connection) -> None:
    """The transaction's last statement: bumps the version (and notifies) if it changed a decision."""
    if conn.info.pop(_WROTE, False):
        bump(conn)


def bump(conn: Connection) -> None:
    done = conn.execute(
        update(store_version).where(store_version.c.id == 1).values(version=store_version.c.version + 1)
    )
    if done.rowcount == 0:  # a store whose row went missing (a hand-made restore): start it again
        conn.execute(insert(store_version).values(id=1, version=1))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"NOTIFY {CHANNEL}"))


def read_version(conn: Any) -> int | None:
    """The version, on a DB-API connection (the watcher's own, outside SQLAlchemy's pool)."""
    cur = conn.cursor()
    try:
        cur.execute("SELECT version FROM store_version WHERE id = 1")
        row = cur.fetchone()
    finally:
        cur.close()
    return int(row[0]) if row else None


class VersionWatcher:
    """A daemon thread that calls `on_change` whenever another transaction bumped the version."""

    def __init__(self, engine: Engine, on_change: Callable[[], None]) -> None:
        self._engine = engine
        self._on_change = on_change
        self._stop = threading.Event()
        self._seen: int | None = None
        self._lost = False  # the store is out of reach: said once, not every RETRY_SECONDS
        self._thread = threading.Thread(target=self._run, name="rolehop-store-version", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(POLL_SECONDS + RETRY_SECONDS + 1)

    def _connect(self) -> Any:
        # the engine's own driver and arguments, on a connection of the watcher's (not the pool's)
        cargs, cparams = self._engine.dialect.create_connect_args(self._engine.url)
        if self._engine.dialect.name == "postgresql":
            cparams.setdefault("connect_timeout", 5)  # an unanswered address must not hang the watcher
        conn = self._engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
        if self._engine.dialect.name == "postgresql":
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
        else:
            conn.isolation_level = None  # SQLite: each read sees the latest commit
        return conn

    def _check(self, conn: Any) -> None:
        # the first read counts as a change too: a write between the caches' first fill and this
        # thread's first read would otherwise go unseen
        version = read_version(conn)
        if version != self._seen or self._seen is None:
            self._seen = version
            self._on_change()

    def _wait(self, conn: Any) -> None:
        if self._engine.dialect.name == "postgresql":
            for _ in conn.notifies(timeout=POLL_SECONDS, stop_after=1):
                pass  # woken by a commit; _check reads what it committed
        else:
            self._stop.wait(SQLITE_POLL_SECONDS)

    def _run(self) -> None:
        while not self._stop.is_set():
            conn = None
            try:
                conn = self._connect()
                if self._lost:
                    log.warning("store version watcher: the store is back")
                    self._lost = False
                while not self._stop.is_set():
                    self._check(conn)
                    self._wait(conn)
            except Exception as e:  # the store unreachable: retry; the caches still expire meanwhile,
                # and the first read after reconnecting sees any version bumped while it was down
                if not self._lost:  # the type only: a driver's message may quote the URL
                    log.warning(
                        "store version watcher: %s; retrying every %s s", type(e).__name__, RETRY_SECONDS
                    )
                self._lost = True
                self._stop.wait(RETRY_SECONDS)
            finally:
                if conn is not None:
                    conn.close()
