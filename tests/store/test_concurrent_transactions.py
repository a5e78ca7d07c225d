"""One store shared by a node's request threads (issue 15, finding 8): transactions that read and then
write, run from many threads at once, all commit; batches of key uses written out of order never move
a key's last use back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from rolehop.core.entities import AccessKey, Account, Identity
from rolehop.store.sql import SqlStore

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)
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


def test_a_late_batch_of_key_uses_never_moves_the_last_use_back(store_url: str) -> None:
    store = SqlStore(store_url)
    key = AccessKey("AKIAEXAMPLE000000001", ACCOUNT.account_id, None, b"sealed", "Active", NOW)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
        tx.insert_key(key)
    later = NOW + timedelta(seconds=30)
    with store.transaction() as tx:  # two threads flushed; the newer batch committed first
        tx.record_key_use([(key.access_key_id, later, "sts", "eu-west-1")])
    with store.transaction() as tx:
        tx.record_key_use([(key.access_key_id, NOW, "iam", "us-east-1")])
    with store.transaction() as tx:
        found = tx.get_key(key.access_key_id)
        assert found is not None
        assert (found.last_used_at, found.last_used_service, found.last_used_region) == (
            later,
            "sts",
            "eu-west-1",
        )
    store.close()


def test_an_in_memory_store_serves_many_threads() -> None:
    """SQLite in memory lives in one connection: threads must take turns with it, not share it."""
    test_read_then_write_transactions_from_many_threads_all_commit("sqlite://")
