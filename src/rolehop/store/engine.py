"""Engines and migrations: SQLite (WAL, foreign keys) by default, PostgreSQL for several nodes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

MIGRATIONS = Path(__file__).parent / "migrations"

# An unreachable or hung PostgreSQL must cost a request seconds, not minutes: libpq gives up
# connecting after connect_timeout, the server cancels a statement (or a wait for a row lock) past
# its timeout, and TCP keepalives / tcp_user_timeout notice a peer that vanished without a word.
# A statement or lock wait past its timeout answers ServiceUnavailable or ConcurrentModification
# (store.conflicts); migrations lift the statement timeout (an index on a large table takes longer).
CONNECT_TIMEOUT = 3
STATEMENT_TIMEOUT_MS = 30_000
LOCK_TIMEOUT_MS = 10_000
POOL_TIMEOUT = 10
POSTGRES_CONNECT_ARGS: Mapping[str, Any] = MappingProxyType(
    {
        "connect_timeout": CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}",
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 15_000,
    }
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # let SQLAlchemy, not pysqlite, issue BEGIN, so SAVEPOINTs work (SQLAlchemy's documented recipe)
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # One connection per process: its request threads take turns at the pool, in order, instead
        # of polling SQLite's lock (busy_timeout sleeps up to 100 ms between tries) behind a slow
        # transaction; SQLite writes one at a time anyway. Kept open, it also keeps an in-memory
        # database alive, which a connection shared by several threads at once would corrupt.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # Every transaction takes the write lock as it begins, so that other processes' writers
        # (`serve --workers N`) queue for it (busy_timeout) instead of failing, and what a transaction
        # read (a quota, a precondition) is still true when it writes.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    # pool_pre_ping tests a pooled connection before lending it, and a connection error invalidates
    # every pooled one: after an outage the first request gets a fresh connection, not a dead one
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT,
        connect_args=dict(POSTGRES_CONNECT_ARGS) if url.startswith("postgresql") else {},
    )


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
