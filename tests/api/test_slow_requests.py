"""A slow request (argon2, a large policy, the store) never holds up the others: API handlers run in
worker threads, not on the event loop (issue 15, finding 8). Timing is driven by events, not clocks."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from rolehop.core.trail_chain import GENESIS
from rolehop.offload import NeedsThread
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import OPERATIONS, Params, Result
from rolehop.services.pipeline.trail import Trail
from rolehop.services.ports.trail import ChainHead, StoredEvent, TrailEvent
from support import LiveServer, user_keys

HELD_AT_MOST = 20  # seconds: only how long the test takes to fail while the loop is blocked


def test_a_slow_request_does_not_hold_up_a_fast_one(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam, sts = server.client("iam"), server.client("sts")
    entered, fast_answered = threading.Event(), threading.Event()
    released_in_time: list[bool] = []
    list_users = OPERATIONS[("iam", "ListUsers")]

    def slow_list_users(call: Call, p: Params) -> Result:
        entered.set()
        # held until the fast request has been answered; blocking the loop here would hold it up
        released_in_time.append(fast_answered.wait(HELD_AT_MOST))
        return list_users(call, p)

    monkeypatch.setitem(OPERATIONS, ("iam", "ListUsers"), slow_list_users)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(iam.list_users)
        assert entered.wait(HELD_AT_MOST)
        try:
            assert sts.get_caller_identity()["Account"] == server.account_id
        finally:
            fast_answered.set()
        assert slow.result()["Users"] == []
    assert released_in_time == [True]  # the fast answer came while the slow request was held


def test_a_hot_path_request_that_needs_the_store_waits_for_it_in_a_thread(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GetCallerIdentity is tried on the event loop; a cold cache makes it read the store, which a
    slow request holds: it must wait in a worker thread, never on the loop."""
    iam = server.client("iam")
    warm = server.client_for("sts", user_keys(iam, "warm"))
    cold = server.client_for("sts", user_keys(iam, "cold"))
    warm.get_caller_identity()  # its key is cached from now on (no write follows)
    server.app.rt.trail.flush()  # the records so far are written (the trail's own thread writes later ones)
    entered, answered = threading.Event(), threading.Event()
    released_in_time: list[bool] = []
    list_users = OPERATIONS[("iam", "ListUsers")]

    def list_users_holding_the_store(call: Call, p: Params) -> Result:
        with call.runtime.store.transaction():  # SQLite: the process's one connection
            entered.set()
            released_in_time.append(answered.wait(HELD_AT_MOST))
        return list_users(call, p)

    monkeypatch.setitem(OPERATIONS, ("iam", "ListUsers"), list_users_holding_the_store)
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(iam.list_users)
        assert entered.wait(HELD_AT_MOST)
        asked_in_a_thread = threading.Event()
        guarded = server.app.rt.store
        transaction = guarded.transaction

        def watched_transaction() -> Any:
            here = threading.current_thread()
            if here is not server.thread and here.name != "rolehop-trail":  # a request's worker thread
                asked_in_a_thread.set()
            return transaction()

        monkeypatch.setattr(guarded, "transaction", watched_transaction)
        try:
            assert warm.get_caller_identity()["Arn"].endswith(":user/warm")  # from the cache, on the loop
            waiting = pool.submit(cold.get_caller_identity)  # needs the store: waits for it...
            assert asked_in_a_thread.wait(HELD_AT_MOST)  # ...in a worker thread
            assert warm.get_caller_identity()["Arn"].endswith(":user/warm")  # the loop is still free
            assert not waiting.done()
        finally:
            answered.set()
        assert waiting.result()["Arn"].endswith(":user/cold")
        assert "Users" in slow.result()
    assert released_in_time == [True]


class FailsOnce:
    """A store whose first transaction fails (unreachable, or a request that must start over in a
    thread); it keeps the trail's records appended after that."""

    def __init__(self) -> None:
        self.failed = False
        self.head: ChainHead | None = None
        self.written: list[str] = []

    @contextmanager
    def transaction(self) -> Iterator[FailsOnce]:
        if not self.failed:
            self.failed = True
            raise NeedsThread
        yield self

    def lock_chain(self, chain_id: str) -> ChainHead | None:
        return self.head

    def start_chain(self, chain_id: str, node: str, started_at: datetime) -> None:
        self.head = ChainHead(chain_id, node, started_at, 0, GENESIS)

    def append_events(self, head: ChainHead, events: Sequence[StoredEvent]) -> None:
        self.written += [e.event.event_id for e in events]
        self.head = ChainHead(head.chain_id, head.node, head.started_at, events[-1].seq, events[-1].hash)


def _event(event_id: str, at: datetime) -> TrailEvent:
    return TrailEvent(
        event_id, None, at, "123456789012", "us-east-1", "sts.amazonaws.com", "GetCallerIdentity",
        True, "alice", "AKIAEXAMPLE000000001", None, None, "{}",
    )  # fmt: skip


def test_records_whose_batch_was_not_written_are_kept_for_the_next() -> None:
    """(The trail's batches replaced the key-usage batches: a key's last use is its newest record.)"""
    store = FailsOnce()
    at = datetime(2026, 1, 2, tzinfo=UTC)
    trail = Trail(cast(Any, store), lambda: at, node="test")
    trail.record([_event("first", at)])
    with suppress(NeedsThread):  # tried on the event loop (here, or by the trail's own thread first)
        trail.flush()
    trail.record([_event("second", at)])
    trail.flush()
    trail.close()
    assert store.failed and store.written == ["first", "second"]
