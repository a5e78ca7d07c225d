"""The storage port's MFA, password and throttling tables, on SQLite and PostgreSQL: the replay guard
and the failure counters hold when several nodes (separate engines) race on the same row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rolehop.core.entities import Account, Identity, LoginProfile, MfaDevice
from rolehop.core.errors import EntityAlreadyExists
from rolehop.core.passwords import PasswordPolicy
from rolehop.store.sql import SqlStore

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)
USER = Identity("user", "AIDAEXAMPLE000000001", ACCOUNT.account_id, "alice", "/", NOW)
SERIAL = "arn:aws:iam::111122223333:mfa/alice"


def _device(device_id: str = "MFADEXAMPLE000000001", serial: str = SERIAL) -> MfaDevice:
    return MfaDevice(device_id, serial, ACCOUNT.account_id, serial.rsplit("/", 1)[1], "/", b"sealed", NOW)


def _store(url: str) -> SqlStore:
    store = SqlStore(url)
    with store.transaction() as tx:
        if tx.get_account(ACCOUNT.account_id) is None:
            tx.put_account(ACCOUNT)
            tx.insert_identity(USER)
    return store


def _race(workers: int, work: Callable[[], object]) -> list[object]:
    """Runs `work` in `workers` threads released at once; returns what each returned."""
    barrier = threading.Barrier(workers)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        value = work()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_mfa_devices_round_trip_assign_and_names_ignore_case(store_url: str) -> None:
    store = _store(store_url)
    with store.transaction() as tx:
        tx.insert_mfa_device(_device())
    with pytest.raises(EntityAlreadyExists), store.transaction() as tx:
        tx.insert_mfa_device(
            _device("MFADEXAMPLE000000002", SERIAL.upper().replace("ARN:AWS:IAM", "arn:aws:iam"))
        )
    with store.transaction() as tx:
        got = tx.get_mfa_device(SERIAL.replace("alice", "ALICE"))
        assert got == _device()
        assert got is not None and "sealed" not in repr(got)
        tx.update_mfa_device(
            replace(got, user_id=USER.unique_id, enable_date=NOW, last_step=5, drift_steps=-2)
        )
    with store.transaction() as tx:
        [mine] = tx.mfa_devices_of(USER.unique_id)
        assert (mine.user_id, mine.enable_date, mine.last_step, mine.drift_steps) == (
            USER.unique_id,
            NOW,
            5,
            -2,
        )
        assert [d.serial_number for d in tx.list_mfa_devices(ACCOUNT.account_id)] == [SERIAL]
        tx.delete_identity(USER.unique_id)
    with store.transaction() as tx:  # deleting the user leaves the device, unassigned
        device = tx.get_mfa_device(SERIAL)
        assert device is not None and device.user_id is None
        tx.delete_mfa_device(device.device_id)
        assert tx.get_mfa_device(SERIAL) is None
    store.close()


def test_replay_guard_accepts_each_step_once(store_url: str) -> None:
    store = _store(store_url)
    device = _device()
    with store.transaction() as tx:
        tx.insert_mfa_device(device)
    with store.transaction() as tx:
        assert tx.advance_mfa_step(device.device_id, 100)
        assert not tx.advance_mfa_step(device.device_id, 100)  # the same step again
        assert not tx.advance_mfa_step(device.device_id, 99)  # an older one
        assert tx.advance_mfa_step(device.device_id, 101)
    store.close()


def test_replay_guard_holds_across_nodes(store_url: str) -> None:
    """Eight "nodes" (own engines) use the same code at once: exactly one succeeds."""
    setup = _store(store_url)
    with setup.transaction() as tx:
        tx.insert_mfa_device(_device())
    nodes = [SqlStore(store_url) for _ in range(8)]
    pool = iter(nodes)
    lock = threading.Lock()

    def use_code() -> bool:
        with lock:
            node = next(pool)
        with node.transaction() as tx:
            return tx.advance_mfa_step("MFADEXAMPLE000000001", 200)

    assert sorted(_race(8, use_code)) == [False] * 7 + [True]  # type: ignore[type-var]
    for node in [setup, *nodes]:
        node.close()


def test_login_profiles_and_password_policy(store_url: str) -> None:
    store = _store(store_url)
    profile = LoginProfile(USER.unique_id, "$argon2id$v=19$…", NOW, NOW, password_reset_required=True)
    with store.transaction() as tx:
        assert tx.get_login_profile(USER.unique_id) is None
        tx.put_login_profile(profile)
    changed = LoginProfile(
        USER.unique_id,
        "$argon2id$new",
        NOW,
        NOW + timedelta(days=1),
        max_signin_session_duration=3600,
        previous_hashes=("$argon2id$v=19$…",),
    )
    with store.transaction() as tx:
        assert tx.get_login_profile(USER.unique_id) == profile
        tx.put_login_profile(changed)
    with store.transaction() as tx:
        assert tx.get_login_profile(USER.unique_id) == changed
        assert "argon2" not in repr(changed)
        assert tx.get_password_policy(ACCOUNT.account_id) is None
        policy = PasswordPolicy(
            minimum_password_length=14,
            require_symbols=True,
            password_reuse_prevention=24,
            max_password_age=90,
            hard_expiry=True,
        )
        tx.put_password_policy(ACCOUNT.account_id, policy)
        tx.put_password_policy(ACCOUNT.account_id, policy)  # replaces
        assert tx.get_password_policy(ACCOUNT.account_id) == policy
        tx.delete_password_policy(ACCOUNT.account_id)
        assert tx.get_password_policy(ACCOUNT.account_id) is None
        tx.delete_identity(USER.unique_id)
    with store.transaction() as tx:  # the profile went with the user
        assert tx.get_login_profile(USER.unique_id) is None
    store.close()


def test_failure_counting_windows_blocks_and_clearing(store_url: str) -> None:
    store = _store(store_url)
    with store.transaction() as tx:
        assert tx.add_failure("user", "AIDA1", NOW, 300).failures == 1
        assert tx.add_failure("user", "AIDA1", NOW + timedelta(seconds=10), 300).failures == 2
        assert tx.add_failure("source", "10.0.0.1", NOW, 300).failures == 1  # another counter
        later = tx.add_failure("user", "AIDA1", NOW + timedelta(seconds=301), 300)  # a new window
        assert (later.failures, later.window_start) == (1, NOW + timedelta(seconds=301))
        tx.block("user", "AIDA1", NOW + timedelta(seconds=600))
        blocked = tx.get_throttle("user", "AIDA1")
        assert blocked is not None and blocked.blocked_until == NOW + timedelta(seconds=600)
        tx.clear_throttle("user", "AIDA1")
        assert tx.get_throttle("user", "AIDA1") is None
        assert tx.get_throttle("source", "10.0.0.1") is not None
    store.close()


def test_concurrent_failures_all_count(store_url: str) -> None:
    nodes = [_store(store_url)] + [SqlStore(store_url) for _ in range(5)]
    pool = iter(nodes)
    lock = threading.Lock()

    def fail() -> int:
        with lock:
            node = next(pool)
        with node.transaction() as tx:
            return tx.add_failure("user", "AIDA2", NOW, 300).failures

    _race(6, fail)
    with nodes[0].transaction() as tx:
        counted = tx.get_throttle("user", "AIDA2")
        assert counted is not None and counted.failures == 6
    for node in nodes:
        node.close()
