"""The store's version (store.versions), on SQLite and PostgreSQL: every write that may change an
authorization decision bumps it in its own transaction, hot-path bookkeeping does not, and a second
store (another node or `serve --workers` process) sees a bump within a second, from a notification
or, when that is missed, from its periodic read of the version row."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from rolehop.core.entities import AccessKey, Account, Identity
from rolehop.services.ports.service_last_accessed import AccessReportJob
from rolehop.store.sql import SqlStore
from rolehop.store.versions import POLL_SECONDS, RETRY_SECONDS, store_version

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)
USER = Identity("user", "AIDAEXAMPLE000000001", ACCOUNT.account_id, "alice", "/", NOW)
KEY = AccessKey("AKIAEXAMPLE000000001", ACCOUNT.account_id, USER.unique_id, b"sealed", "Active", NOW)
JOB = AccessReportJob(
    "11111111-2222-4333-8444-555555555555", ACCOUNT.account_id, USER.arn, USER.arn, "SERVICE_LEVEL", NOW
)
WINDOW = 1.0


def _version(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(store_version.c.version)).scalar_one())


def _seeded(url: str) -> SqlStore:
    store = SqlStore(url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
        tx.insert_identity(USER)
        tx.insert_key(KEY)
    return store


def test_a_decision_changing_write_bumps_the_version_and_bookkeeping_does_not(store_url: str) -> None:
    store = _seeded(store_url)
    before = _version(store)
    with store.transaction() as tx:
        tx.set_key_status(KEY.access_key_id, "Inactive")
    assert _version(store) == before + 1
    with store.transaction() as tx:  # reads, a last-accessed report, a sign-in throttle: no cache holds them
        tx.get_key(KEY.access_key_id)
        tx.insert_access_report_job(JOB)
        tx.complete_access_report_job(JOB.job_id, NOW, "{}")
        tx.add_failure("user", USER.unique_id, NOW, 300)
    with pytest.raises(RuntimeError), store.transaction() as tx:  # rolled back: nothing to see
        tx.delete_key(KEY.access_key_id)
        raise RuntimeError("boom")
    assert _version(store) == before + 1
    store.reset()  # dev mode's reset empties every table but keeps counting
    assert _version(store) > before + 1
    store.close()


def _watching(url: str) -> tuple[SqlStore, threading.Event]:
    """A second store whose watcher has made its first read (which reports a change: the caches
    it guards may have been filled before it started)."""
    seen = threading.Event()
    store = SqlStore(url)
    store.watch_changes(seen.set)
    assert seen.wait(5), "the watcher never read the version"
    seen.clear()
    return store, seen


def _seen_within(seconds: float, seen: threading.Event) -> float:
    start = time.monotonic()
    assert seen.wait(seconds), f"no change seen within {seconds} s"
    return time.monotonic() - start


def test_another_store_sees_a_write_within_a_second(store_url: str) -> None:
    writer = _seeded(store_url)
    watcher, seen = _watching(store_url)
    with writer.transaction() as tx:
        tx.set_key_status(KEY.access_key_id, "Inactive")
    _seen_within(WINDOW, seen)
    watcher.close()
    writer.close()


def test_a_missed_notification_is_caught_by_the_periodic_read(pg_url: str) -> None:
    writer = _seeded(pg_url)
    watcher, seen = _watching(pg_url)
    with writer.engine.begin() as conn:  # a bump whose NOTIFY never came (as if the listener was down)
        conn.execute(update(store_version).values(version=store_version.c.version + 1))
    _seen_within(WINDOW, seen)
    watcher.close()
    writer.close()


def test_a_watcher_that_lost_the_store_catches_up_when_it_is_back(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    writer = _seeded(pg_url)
    watcher, seen = _watching(pg_url)
    with writer.engine.begin() as conn:  # every other connection dropped, the watcher's among them
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(update(store_version).values(version=store_version.c.version + 1))
    _seen_within(RETRY_SECONDS + POLL_SECONDS + WINDOW, seen)  # reconnected, it read the new version
    assert "store version watcher: OperationalError; retrying" in caplog.text
    assert "store version watcher: the store is back" in caplog.text
    assert pg_url.rsplit("@", 1)[0] not in caplog.text  # never the credentials
    watcher.close()
    writer.close()
