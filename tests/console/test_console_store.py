"""The console's storage port on SQLite and PostgreSQL: sessions, role history, sign-in tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from rolehop.core.entities import Account, Identity
from rolehop.services.ports.console import ConsoleSession, RoleHistoryEntry
from rolehop.store.console_store import SqlConsoleStore
from rolehop.store.engine import downgrade, make_engine, migrate
from rolehop.store.sql import SqlStore

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)
USER = Identity("user", "AIDAEXAMPLE000000001", ACCOUNT.account_id, "alice", "/", NOW)
CONSOLE_TABLES = {"console_sessions", "console_role_history", "console_signin_tokens"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def stores(store_url: str) -> Iterator[tuple[SqlStore, SqlConsoleStore]]:
    store = SqlStore(store_url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
        tx.insert_identity(USER)
    yield store, SqlConsoleStore.sharing(store)
    store.close()


def session(session_id: str = "a" * 64, **changes: object) -> ConsoleSession:
    values: dict[str, object] = {
        "session_id": session_id,
        "account_id": ACCOUNT.account_id,
        "principal_name": "alice",
        "stage": "active",
        "created_at": NOW,
        "expires_at": NOW + timedelta(hours=12),
        "user_id": USER.unique_id,
        "user_token": "RH1user",
        "pending_mfa": b"\x00sealed\xff",
    }
    values.update(changes)
    return ConsoleSession(**values)  # type: ignore[arg-type]


def test_migration_0004_goes_up_and_down(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= CONSOLE_TABLES
    downgrade(engine, "0003")
    assert not CONSOLE_TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= CONSOLE_TABLES
    engine.dispose()


def test_sessions_round_trip_update_and_expire(stores: tuple[SqlStore, SqlConsoleStore]) -> None:
    _store, console = stores
    with console.transaction() as tx:
        tx.insert_session(session())
        tx.insert_session(
            session("b" * 64, expires_at=NOW + timedelta(minutes=5), stage="mfa", user_token=None)
        )
    with console.transaction() as tx:
        found = tx.get_session("a" * 64)
        assert found == session()
        assert found is not None and found.expires_at.tzinfo is not None
        tx.update_session(
            session(role_token="RH1role", role_arn="arn:aws:iam::1:role/r", role_color="b7ca9d")
        )
    with console.transaction() as tx:
        updated = tx.get_session("a" * 64)
        assert updated is not None and updated.role_color == "b7ca9d" and updated.role_token == "RH1role"
        assert tx.delete_expired_sessions(NOW + timedelta(minutes=5)) == 1
        assert tx.get_session("b" * 64) is None
        tx.delete_session("a" * 64)
        assert tx.get_session("a" * 64) is None


def test_role_history_is_per_user_newest_first_and_ignores_role_name_case(
    stores: tuple[SqlStore, SqlConsoleStore],
) -> None:
    _store, console = stores
    with console.transaction() as tx:
        for n, (account, role) in enumerate(
            [("380735047240", "Admin"), ("464677946080", "admin"), ("1" * 12, "x")]
        ):
            tx.put_role_history(
                RoleHistoryEntry(USER.unique_id, account, role, f"entry {n}", "", NOW + timedelta(seconds=n))
            )
        tx.put_role_history(
            RoleHistoryEntry(
                USER.unique_id, "380735047240", "ADMIN", "renamed", "f2b0a9", NOW + timedelta(seconds=9)
            )
        )
    with console.transaction() as tx:
        entries = tx.role_history(USER.unique_id)
        assert [e.display_name for e in entries] == ["renamed", "entry 2", "entry 1"]
        assert entries[0].role_name == "ADMIN" and entries[0].color == "f2b0a9"
        assert tx.role_history("AIDAOTHER") == []
        tx.delete_role_history(USER.unique_id, "380735047240", "admin")
        assert [e.display_name for e in tx.role_history(USER.unique_id)] == ["entry 2", "entry 1"]


def test_deleting_the_user_ends_its_sessions_and_history(stores: tuple[SqlStore, SqlConsoleStore]) -> None:
    store, console = stores
    with console.transaction() as tx:
        tx.insert_session(session())
        tx.put_role_history(RoleHistoryEntry(USER.unique_id, "380735047240", "admin", "p", "", NOW))
    with store.transaction() as stx:
        stx.delete_identity(USER.unique_id)
    with console.transaction() as tx:
        assert tx.get_session("a" * 64) is None
        assert tx.role_history(USER.unique_id) == []


def test_signin_tokens_are_accepted_once(stores: tuple[SqlStore, SqlConsoleStore]) -> None:
    _store, console = stores
    with console.transaction() as tx:
        assert tx.use_signin_token("t1", NOW + timedelta(minutes=15))
        assert not tx.use_signin_token("t1", NOW + timedelta(minutes=15))
        assert tx.use_signin_token("t2", NOW + timedelta(minutes=15))
    with console.transaction() as tx:
        assert not tx.use_signin_token("t1", NOW + timedelta(minutes=15))  # across transactions too
        tx.delete_expired_signin_tokens(NOW + timedelta(minutes=15))
        assert tx.use_signin_token("t1", NOW + timedelta(minutes=30))  # swept once expired


def test_reset_empties_the_console_tables(stores: tuple[SqlStore, SqlConsoleStore]) -> None:
    store, console = stores
    with console.transaction() as tx:
        tx.insert_session(session())
        tx.use_signin_token("t", NOW)
    store.reset()
    with console.transaction() as tx:
        assert tx.get_session("a" * 64) is None
        assert tx.use_signin_token("t", NOW)
