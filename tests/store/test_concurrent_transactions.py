"""One store shared by a node's request threads (issue 15, finding 8): transactions that read and then
write, run from many threads at once, all commit; batches of the audit trail written out of order
never move a key's last use back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from rolehop.core.entities import Account, Identity
from rolehop.services.pipeline.trail import Trail
from rolehop.services.ports.trail import LastUse, TrailEvent
from rolehop.store.sql import SqlStore

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)
KEY_ID = "AKIAEXAMPLE000000001"
THREADS = 8
EACH = 25


def test_read_then_write_transactions_from_many_threads_all_commit(store_url: str) -> None:
    store = SqlStore(store_url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
    start = threading.Barrier(THREADS)

    def create_users(worker: int) -> None:
        start.wait()
        for i in range(EACH):
            name = f"u{worker}x{i}"
            with store.transaction() as tx:  # reads, then writes: SQLite must not refuse the upgrade
                assert tx.get_identity("user", ACCOUNT.account_id, name) is None
                tx.insert_identity(
                    Identity("user", f"AIDA{worker:04d}{i:012d}", ACCOUNT.account_id, name, "/", NOW)
                )

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(create_users, range(THREADS)))  # re-raises any thread's failure
    with store.transaction() as tx:
        assert len(tx.list_identities("user", ACCOUNT.account_id)) == THREADS * EACH
    store.close()


def _use(event_id: str, at: datetime, source: str, region: str) -> TrailEvent:
    return TrailEvent(
        event_id, None, at, ACCOUNT.account_id, region, source, "GetCallerIdentity", True, "alice", KEY_ID,
        None, None, "{}",
    )  # fmt: skip


def test_a_late_batch_of_the_trail_never_moves_a_keys_last_use_back(store_url: str) -> None:
    store = SqlStore(store_url)
    later = NOW + timedelta(seconds=30)
    one, other = Trail(store, lambda: NOW, node="one"), Trail(store, lambda: NOW, node="other")
    with store.transaction() as tx:  # two nodes flushed; the newer batch committed first
        one.append(tx, [_use("newer", later, "sts.amazonaws.com", "eu-west-1")])
    with store.transaction() as tx:
        other.append(tx, [_use("older", NOW, "iam.amazonaws.com", "us-east-1")])
    with store.transaction() as tx:
        assert tx.last_attempts_by_key([KEY_ID, "AKIANEVERUSED0000001"]) == {
            KEY_ID: LastUse(later, "eu-west-1", "sts.amazonaws.com")
        }
    store.close()


def test_an_in_memory_store_serves_many_threads() -> None:
    """SQLite in memory lives in one connection: threads must take turns with it, not share it."""
    test_read_then_write_transactions_from_many_threads_all_commit("sqlite://")
