"""An operation and its audit record as one transaction (services.pipeline.perform): a transaction
opened inside another on the same thread is a savepoint of it, on SQLite and on PostgreSQL, and the
trail's chain links records in order whatever thread appends them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from rolehop.core.entities import Account, Identity
from rolehop.core.errors import NoSuchEntity
from rolehop.core.trail_chain import GENESIS, link
from rolehop.services.pipeline.trail import Trail, stored_fields
from rolehop.services.ports.trail import TrailEvent
from rolehop.store.sql import SqlStore

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)


def _user(name: str, uid: str) -> Identity:
    return Identity("user", uid, ACCOUNT.account_id, name, "/", NOW)


def _event(n: int) -> TrailEvent:
    return TrailEvent(
        event_id=f"event-{n}",
        request_id=f"request-{n}",
        event_time=NOW,
        account_id=ACCOUNT.account_id,
        region="us-east-1",
        event_source="iam.amazonaws.com",
        event_name="CreateUser",
        read_only=False,
        username="alice",
        access_key_id=None,
        principal_arn=None,
        error_code=None,
        record=f'{{"n":{n}}}',
    )


def test_an_inner_transaction_is_a_savepoint_of_the_outer_one(store_url: str) -> None:
    store = SqlStore(store_url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
    with store.transaction() as outer:
        with store.transaction() as inner:
            assert inner is outer  # one connection: no second one waited for (SQLite has one)
            inner.insert_identity(_user("kept", "AIDAEXAMPLE000000001"))
        with pytest.raises(NoSuchEntity), store.transaction() as inner:
            inner.insert_identity(_user("undone", "AIDAEXAMPLE000000002"))
            raise NoSuchEntity("the inner block fails: its writes alone are rolled back")
        assert outer.get_identity("user", ACCOUNT.account_id, "undone") is None
    with store.transaction() as tx:
        assert tx.get_identity("user", ACCOUNT.account_id, "kept") is not None
        assert tx.get_identity("user", ACCOUNT.account_id, "undone") is None


def test_nothing_of_a_unit_is_committed_when_the_outer_transaction_fails(store_url: str) -> None:
    store = SqlStore(store_url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction() as inner:
            inner.insert_identity(_user("never", "AIDAEXAMPLE000000003"))
        raise RuntimeError("after the inner block committed its savepoint")
    with store.transaction() as tx:
        assert tx.get_identity("user", ACCOUNT.account_id, "never") is None


def test_threads_appending_to_one_chain_link_every_record_in_order(store_url: str) -> None:
    store = SqlStore(store_url)
    trail = Trail(store, lambda: NOW)
    count = iter(range(10_000))
    lock = threading.Lock()

    def append_some() -> None:
        for _ in range(10):
            with lock:
                n = next(count)
            with store.transaction() as tx:
                trail.append(tx, [_event(n)])

    threads = [threading.Thread(target=append_some) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.transaction() as tx:
        events = tx.chain_events(trail.chain_id)
        head = tx.lock_chain(trail.chain_id)
    assert [e.seq for e in events] == list(range(1, 41))
    prev = GENESIS
    for e in events:
        assert e.prev_hash == prev
        assert e.hash == link(prev, trail.chain_id, e.seq, stored_fields(e.event))
        prev = e.hash
    assert head is not None and head.seq == 40 and head.hash == prev
    assert sorted(e.event.event_id for e in events) == sorted(f"event-{n}" for n in range(40))


def test_a_rolled_back_append_leaves_the_chain_as_it_was(store_url: str) -> None:
    store = SqlStore(store_url)
    trail = Trail(store, lambda: NOW)
    with store.transaction() as tx:
        trail.append(tx, [_event(1)])
    with pytest.raises(RuntimeError), store.transaction() as tx:
        trail.append(tx, [_event(2)])
        raise RuntimeError("the change failed after its record was appended")
    with store.transaction() as tx:
        trail.append(tx, [_event(3)])
        events = tx.chain_events(trail.chain_id)
    assert [(e.seq, e.event.event_id) for e in events] == [(1, "event-1"), (2, "event-3")]
    assert events[1].prev_hash == events[0].hash
