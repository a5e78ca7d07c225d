"""Two nodes on one PostgreSQL store and one key ring: what one node writes, the other serves;
temporary credentials from either are good on both; a change that refuses access on one node is
enforced on the other within a second (the store's version notification), with no clock moving."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support import FakeClock, LiveServer, user_keys

WINDOW = 1.0  # seconds within which every node enforces a change (issue 15, item 1)


@pytest.fixture
def nodes(tmp_path: Path, clock: FakeClock, pg_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    a = LiveServer(tmp_path / "shared", clock, database_url=pg_url)
    b = LiveServer(tmp_path / "shared", clock, database_url=pg_url)  # same key ring file
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_two_nodes_share_identities_and_sessions(
    nodes: tuple[LiveServer, LiveServer], clock: FakeClock
) -> None:
    a, b = nodes
    a.client("iam").create_user(UserName="alice")
    assert [u["UserName"] for u in b.client("iam").list_users()["Users"]] == ["alice"]
    keys = b.client("iam").create_access_key(UserName="alice")["AccessKey"]
    assert a.client_for("sts", keys).get_caller_identity()["Arn"].endswith(":user/alice")
    session = a.client_for("sts", keys).get_session_token()["Credentials"]
    assert b.client_for("sts", session).get_caller_identity()["Arn"].endswith(":user/alice")


def _refused_within(seconds: float, request: Callable[[], Any], code: str) -> float:
    """Repeats `request` until it fails with `code`; how long that took. Fails past `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            request()
        except ClientError as e:
            assert e.response["Error"]["Code"] == code
            return time.monotonic() - start
    pytest.fail(f"still allowed after {seconds} s")


def test_a_revoked_key_is_refused_on_every_node_within_a_second(
    nodes: tuple[LiveServer, LiveServer], clock: FakeClock
) -> None:
    a, b = nodes
    keys = user_keys(a.client("iam"), "bob")
    b.client_for("sts", keys).get_caller_identity()  # node b now holds the key in its cache
    a.client("iam").update_access_key(UserName="bob", AccessKeyId=keys["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError):  # at once on the node that revoked it
        a.client_for("sts", keys).get_caller_identity()
    _refused_within(WINDOW, b.client_for("sts", keys).get_caller_identity, "InvalidClientTokenId")


def test_a_detached_policy_stops_allowing_on_every_node_within_a_second(
    nodes: tuple[LiveServer, LiveServer], clock: FakeClock
) -> None:
    a, b = nodes
    iam = a.client("iam")
    keys = user_keys(iam, "carol")
    iam.attach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    b.client_for("iam", keys).list_users()  # node b caches carol's policies
    iam.detach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    _refused_within(WINDOW, b.client_for("iam", keys).list_users, "AccessDenied")


def test_a_deleted_user_s_session_is_refused_on_every_node_within_a_second(
    nodes: tuple[LiveServer, LiveServer], clock: FakeClock
) -> None:
    a, b = nodes
    iam = a.client("iam")
    keys = user_keys(iam, "dave")
    session = a.client_for("sts", keys).get_session_token()["Credentials"]
    b.client_for("sts", session).get_caller_identity()  # node b caches dave behind the session
    iam.delete_access_key(UserName="dave", AccessKeyId=keys["AccessKeyId"])
    iam.delete_user(UserName="dave")
    _refused_within(WINDOW, b.client_for("sts", session).get_caller_identity, "InvalidClientTokenId")


def test_a_deleted_key_stops_working_everywhere_within_a_second(
    nodes: tuple[LiveServer, LiveServer], clock: FakeClock
) -> None:
    a, b = nodes
    keys = user_keys(a.client("iam"), "erin")
    b.client_for("sts", keys).get_caller_identity()  # node b now holds the key in its cache
    a.client("iam").delete_access_key(UserName="erin", AccessKeyId=keys["AccessKeyId"])
    with pytest.raises(ClientError):  # at once on the node that deleted it
        a.client_for("sts", keys).get_caller_identity()
    # the clock stands still: node b's cache has not expired, the notification dropped the key
    _refused_within(WINDOW, b.client_for("sts", keys).get_caller_identity, "InvalidClientTokenId")


def test_processes_sharing_one_sqlite_file_refuse_a_revoked_key_within_a_second(
    tmp_path: Path, clock: FakeClock
) -> None:
    a = LiveServer(tmp_path / "shared", clock)  # as `serve --workers 2` does: one file, two engines
    b = LiveServer(tmp_path / "shared", clock)
    try:
        keys = user_keys(a.client("iam"), "frank")
        b.client_for("sts", keys).get_caller_identity()
        a.client("iam").update_access_key(
            UserName="frank", AccessKeyId=keys["AccessKeyId"], Status="Inactive"
        )
        _refused_within(WINDOW, b.client_for("sts", keys).get_caller_identity, "InvalidClientTokenId")
    finally:
        a.stop()
        b.stop()
