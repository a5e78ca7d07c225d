"""Two nodes on one PostgreSQL store and one key ring: what one node writes, the other serves;
temporary credentials from either are good on both; other nodes' changes arrive within the cache
window, as IAM's own changes propagate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from rolehop.services.pipeline.runtime import Settings
from support import FakeClock, LiveServer


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


def test_a_deleted_key_stops_working_everywhere_within_the_cache_window(
    nodes: tuple[LiveServer, LiveServer], clock: FakeClock
) -> None:
    a, b = nodes
    a.client("iam").create_user(UserName="bob")
    keys = a.client("iam").create_access_key(UserName="bob")["AccessKey"]
    b.client_for("sts", keys).get_caller_identity()  # node b now holds the key in its cache
    a.client("iam").delete_access_key(UserName="bob", AccessKeyId=keys["AccessKeyId"])
    with pytest.raises(ClientError):  # at once on the node that deleted it
        a.client_for("sts", keys).get_caller_identity()
    clock.advance(Settings.cache_seconds + 1)
    with pytest.raises(ClientError) as exc:
        b.client_for("sts", keys).get_caller_identity()
    assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"
