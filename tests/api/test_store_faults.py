"""PostgreSQL unreachable, stalled, then back (a TCP proxy between rolehop and the database is cut,
never the database itself): calls that need the store answer AWS's ServiceUnavailable (503) at once,
calls that need no database keep working, health says 503, and the node recovers by itself."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from rolehop.core.errors import ServiceUnavailable
from rolehop.store import versions
from rolehop.store.engine import CONNECT_TIMEOUT
from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer, user_keys
from tcp_proxy import TcpProxy

PG_ADDRESS = ("127.0.0.1", 5432)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy(PG_ADDRESS)
    yield p
    p.close()


@pytest.fixture
def node(tmp_path: Path, clock: FakeClock, pg_url: str, proxy: TcpProxy) -> Iterator[LiveServer]:
    through_proxy = pg_url.replace("127.0.0.1:5432", proxy.address)
    assert through_proxy != pg_url
    live = LiveServer(tmp_path / "data", clock, database_url=through_proxy)
    yield live
    live.stop()


def health(node: LiveServer) -> int:
    try:
        with urllib.request.urlopen(node.url + "/_rolehop/health", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def once(node: LiveServer, service: str, creds: dict[str, Any] | None = None) -> Any:
    """A boto3 client that sends each request once: botocore retries a 503 by default, and each
    answer (and how long it took) must be the server's to one request."""
    creds = creds or {"AccessKeyId": ROOT_KEY, "SecretAccessKey": ROOT_SECRET}
    return boto3.client(
        service,
        endpoint_url=node.url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(retries={"total_max_attempts": 1}),
    )


def own_writes_seen(node: LiveServer) -> None:
    """Returns once the store's change watcher has seen this node's own writes: it drops the node's
    caches when it does (store.versions), and caches filled before that would not last."""
    writes = node.app.rt._writes
    last, quiet_since = writes.count, time.monotonic()
    while time.monotonic() - quiet_since < 4 * versions.POLL_SECONDS:
        time.sleep(0.05)
        if writes.count != last:
            last, quiet_since = writes.count, time.monotonic()


def error_of(call: Any) -> dict[str, Any]:
    started = time.monotonic()
    with pytest.raises(ClientError) as exc:
        call()
    assert time.monotonic() - started < CONNECT_TIMEOUT, "a call waited on the database"
    return dict(exc.value.response)


def assert_unavailable(response: dict[str, Any], code: str = "ServiceUnavailable") -> None:
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert response["Error"]["Code"] == code
    message = response["Error"]["Message"]
    assert "psycopg" not in message and "127.0.0.1" not in message and "postgres" not in message


def test_store_calls_answer_service_unavailable_while_postgres_is_cut(
    node: LiveServer, proxy: TcpProxy
) -> None:
    iam, orgs = once(node, "iam"), once(node, "organizations")
    iam.create_user(UserName="before")
    assert health(node) == 200
    proxy.cut()
    unavailable = error_of(iam.list_users)
    assert_unavailable(unavailable)
    assert unavailable["Error"]["Type"] == "Receiver"  # the service's fault (Query error shape)
    assert_unavailable(error_of(lambda: iam.create_user(UserName="during")))
    # Organizations speaks JSON 1.1: its modeled ServiceException, with the same status
    assert_unavailable(error_of(orgs.describe_organization), code="ServiceException")
    assert health(node) == 503


def test_the_node_recovers_without_a_restart_when_postgres_is_back(node: LiveServer, proxy: TcpProxy) -> None:
    iam = once(node, "iam")
    for i in range(5):  # the pool holds connections that the cut will break
        iam.create_user(UserName=f"u{i}")
    proxy.cut()
    assert_unavailable(error_of(lambda: iam.create_user(UserName="lost")))
    assert health(node) == 503
    proxy.restore()
    # the very first call after the restore succeeds: broken pooled connections were discarded
    iam.create_user(UserName="after")
    assert sorted(u["UserName"] for u in iam.list_users()["Users"]) == [
        "after", "u0", "u1", "u2", "u3", "u4"
    ]  # fmt: skip
    assert health(node) == 200


def test_a_stalled_database_costs_a_connect_timeout_not_a_hang(node: LiveServer, proxy: TcpProxy) -> None:
    iam = once(node, "iam")
    proxy.cut()  # drop the pooled connections, then accept new ones and never answer
    proxy.restore()
    proxy.stall()
    started = time.monotonic()
    with pytest.raises(ClientError) as exc:
        iam.list_users()
    assert time.monotonic() - started < CONNECT_TIMEOUT + 2
    assert_unavailable(dict(exc.value.response))
    proxy.restore()
    assert iam.list_users()["Users"] == []


def test_a_restarting_database_is_service_unavailable_until_it_is_up(
    node: LiveServer, proxy: TcpProxy
) -> None:
    iam = once(node, "iam")
    iam.create_user(UserName="before")
    proxy.cut()  # the restart drops every connection; new ones hear "starting up" (57P03)
    proxy.restore()
    proxy.starting_up()
    assert_unavailable(error_of(lambda: iam.create_user(UserName="during")))
    assert health(node) == 503
    proxy.restore()
    iam.create_user(UserName="after")
    assert sorted(u["UserName"] for u in iam.list_users()["Users"]) == ["after", "before"]


def test_sts_calls_that_need_no_database_keep_working_while_it_is_cut(
    node: LiveServer, proxy: TcpProxy
) -> None:
    iam = once(node, "iam")
    keys = user_keys(iam, "alice")
    own_writes_seen(node)
    user_sts = once(node, "sts", keys)
    session = once(node, "sts", user_sts.get_session_token()["Credentials"])
    assert session.get_caller_identity()["Arn"].endswith(":user/alice")  # caches the identity
    root_sts = once(node, "sts")
    root_sts.get_caller_identity()
    # their records wait in the trail's batch, whose writes fail meanwhile: that must not fail a request
    proxy.cut()
    assert user_sts.get_caller_identity()["Arn"].endswith(":user/alice")
    assert root_sts.get_caller_identity()["Arn"].endswith(":root")
    assert session.get_caller_identity()["Arn"].endswith(":user/alice")
    # a key the node has not seen needs the store
    assert_unavailable(
        error_of(
            once(
                node, "sts", {"AccessKeyId": "AKIANEVERSEENBEFORE1", "SecretAccessKey": "x"}
            ).get_caller_identity
        )
    )
    with pytest.raises(ServiceUnavailable):  # the trail's batch cannot be written now: it is kept
        node.app.rt.trail.flush()
    assert node.app.rt.trail.pending > 0
    proxy.restore()
    assert health(node) == 200
    last_used = iam.get_access_key_last_used(AccessKeyId=keys["AccessKeyId"])["AccessKeyLastUsed"]
    assert last_used["ServiceName"] == "sts"  # the records held back during the cut were written after
