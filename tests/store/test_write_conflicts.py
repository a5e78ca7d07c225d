"""Writers racing on one store, on SQLite and PostgreSQL: row locks hold other nodes (separate
engines) back, and a write that loses a race anyway is ConcurrentModification (never a database
error, so never a 500) and changes nothing."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from rolehop.core.entities import AccessKey, Account, Identity, ManagedPolicy, PolicyVersion, Tag
from rolehop.core.errors import ConcurrentModification
from rolehop.store.sql import SqlStore, SqlTx

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)
ALICE = Identity("user", "AIDAEXAMPLE000000001", ACCOUNT.account_id, "alice", "/", NOW)
BOB = Identity("user", "AIDAEXAMPLE000000002", ACCOUNT.account_id, "bob", "/", NOW)
POLICY = ManagedPolicy(
    "ANPAEXAMPLE000000001", "arn:aws:iam::111122223333:policy/p", ACCOUNT.account_id, "p", "/", "v1", NOW, NOW
)
SEALED = b"sealed-secret-that-must-not-be-logged"


def _store(url: str) -> SqlStore:
    store = SqlStore(url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
        tx.insert_identity(ALICE)
        tx.insert_identity(BOB)
        tx.insert_policy(POLICY, PolicyVersion(POLICY.policy_id, "v1", "{}", NOW))
    return store


def _key(key_id: str, user_id: str) -> AccessKey:
    return AccessKey(key_id, ACCOUNT.account_id, user_id, SEALED, "Active", NOW)


def _lock_timeout(tx: SqlTx) -> None:
    """PostgreSQL gives up waiting for a row lock after 50 ms (55P03) instead of waiting forever."""
    tx.c.exec_driver_sql("SET LOCAL lock_timeout = '50ms'")


def test_a_row_taken_or_deleted_meanwhile_is_concurrent_modification_and_changes_nothing(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(store_url)
    # v1 exists: what a CreatePolicyVersion that numbered its version from a stale read would meet
    with pytest.raises(ConcurrentModification), store.transaction() as tx:
        tx.set_tags("user", ALICE.unique_id, [Tag("team", "a")])
        tx.insert_version(PolicyVersion(POLICY.policy_id, "v1", "{}", NOW))
    # a key for a user deleted since it was read: not "already exists"
    caplog.set_level(logging.WARNING, "rolehop.store")
    with pytest.raises(ConcurrentModification), store.transaction() as tx:
        tx.set_tags("user", ALICE.unique_id, [Tag("team", "b")])
        tx.insert_key(_key("AKIAEXAMPLE000000001", "AIDAGONE000000000001"))
    assert "ConcurrentModification" in caplog.text
    assert SEALED.decode() not in caplog.text and "AKIAEXAMPLE000000001" not in caplog.text
    with store.transaction() as tx:
        assert tx.tags_of("user", ALICE.unique_id) == []
        assert tx.get_key("AKIAEXAMPLE000000001") is None
    store.close()


def test_locks_return_rows_as_they_are_now(store_url: str) -> None:
    store = _store(store_url)
    with store.transaction() as tx:
        tx.insert_version(PolicyVersion(POLICY.policy_id, "v2", "{}", NOW))
        tx.update_policy(replace(POLICY, next_version=3))
        tx.delete_identity(BOB.unique_id)
    with store.transaction() as tx:
        assert tx.lock_account(ACCOUNT.account_id) == ACCOUNT
        assert tx.lock_identity(ALICE.unique_id) == ALICE
        assert tx.lock_identity(BOB.unique_id) is None
        locked = tx.lock_policy(POLICY.policy_id)
        assert locked is not None and locked.next_version == 3
        assert tx.lock_policy("ANPAEXAMPLE000000404") is None
        assert tx.lock_account("999999999999") is None
    store.close()


def test_a_sqlite_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    """What a transaction reads before it writes is still true when it writes: another process cannot
    write in between (with a deferred BEGIN it could, and the first one's write then failed)."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = _store(url)
    other = SqlStore(url)

    def impatient(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=0")  # give up at once rather than after 5 s

    event.listen(other.engine, "connect", impatient)
    other.engine.dispose()
    with first.transaction() as tx:
        assert tx.keys_of(ACCOUNT.account_id, ALICE.unique_id) == []  # the quota check reads
        with pytest.raises(ConcurrentModification), other.transaction() as elsewhere:
            elsewhere.insert_key(_key("AKIAEXAMPLE000000002", ALICE.unique_id))
        tx.insert_key(_key("AKIAEXAMPLE000000001", ALICE.unique_id))
    with other.transaction() as tx:
        assert [k.access_key_id for k in tx.keys_of(ACCOUNT.account_id, ALICE.unique_id)] == [
            "AKIAEXAMPLE000000001"
        ]
    first.close()
    other.close()


def test_a_locked_row_holds_back_other_nodes_on_postgresql(pg_url: str) -> None:
    first = _store(pg_url)
    other = SqlStore(pg_url)
    with first.transaction() as tx:
        tx.lock_identity(ALICE.unique_id)
        with pytest.raises(ConcurrentModification), other.transaction() as elsewhere:
            _lock_timeout(elsewhere)
            elsewhere.lock_identity(ALICE.unique_id)
        with pytest.raises(ConcurrentModification), other.transaction() as elsewhere:
            _lock_timeout(elsewhere)  # a row that refers to the locked one waits too
            elsewhere.insert_key(_key("AKIAEXAMPLE000000001", ALICE.unique_id))
        with other.transaction() as elsewhere:  # another user is not held
            _lock_timeout(elsewhere)
            assert elsewhere.lock_identity(BOB.unique_id) == BOB
    first.close()
    other.close()


def test_a_deadlock_on_postgresql_is_concurrent_modification_for_one_side(pg_url: str) -> None:
    nodes = [_store(pg_url), SqlStore(pg_url)]
    both_hold_one = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def lock_in_order(i: int, first: str, second: str) -> None:
        try:
            with nodes[i].transaction() as tx:
                tx.lock_identity(first)
                both_hold_one.wait(10)
                tx.lock_identity(second)
            outcomes[i] = "ok"
        except ConcurrentModification:
            outcomes[i] = "ConcurrentModification"

    threads = [
        threading.Thread(target=lock_in_order, args=(0, ALICE.unique_id, BOB.unique_id)),
        threading.Thread(target=lock_in_order, args=(1, BOB.unique_id, ALICE.unique_id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["ConcurrentModification", "ok"]
    for node in nodes:
        node.close()
