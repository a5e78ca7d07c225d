"""SQLite busy: while another process holds the store's write lock, a write waits for it (BEGIN
IMMEDIATE under busy_timeout) and then succeeds; held past busy_timeout, it is answered as
ConcurrentModification (IAM's 409, "submit the request again") and changes nothing; never a 500."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support import FakeClock, LiveServer


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def node(tmp_path: Path, clock: FakeClock, store_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "data", clock, database_url=f"sqlite:///{store_path}")
    yield live
    live.stop()


@contextmanager
def write_lock_held(store_path: Path, seconds: float) -> Iterator[None]:
    """Another process's writer: it takes the write lock, keeps it `seconds`, and lets go."""
    other = sqlite3.connect(store_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(seconds, other.rollback)
    release.start()
    try:
        yield
    finally:
        release.join()
        other.close()


def test_a_write_waits_for_another_writer_and_succeeds(node: LiveServer, store_path: Path) -> None:
    iam = node.client("iam")
    with write_lock_held(store_path, 1.0):
        started = time.monotonic()
        iam.create_user(UserName="patient")  # a 200 after the wait, not "database is locked"
        assert time.monotonic() - started >= 0.9  # it did wait for the lock
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["patient"]


def test_a_write_held_back_past_busy_timeout_is_concurrent_modification(
    node: LiveServer, store_path: Path
) -> None:
    iam = node.client("iam")
    with write_lock_held(store_path, 5.5), pytest.raises(ClientError) as exc:  # busy_timeout: 5 s
        iam.create_user(UserName="impatient")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert exc.value.response["Error"]["Code"] == "ConcurrentModification"
    assert iam.list_users()["Users"] == []
