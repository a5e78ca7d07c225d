"""GET /metrics, /_rolehop/live and /_rolehop/health against a live server, read as Prometheus and a
load balancer would: unsigned HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import botocore.exceptions
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from mfa_support import enroll
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from rolehop.app import RolehopApp, build_runtime
from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer, user_keys

FORM = "application/x-www-form-urlencoded; charset=utf-8"

TRUST: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}],
}


def allow(*actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }
    )


def trust(account_id: str) -> str:
    statement: dict[str, Any] = {
        **TRUST["Statement"][0],
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
    }
    return json.dumps({**TRUST, "Statement": [statement]})


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the metrics page by name and labels, parsed by prometheus_client's own parser."""
    page = httpx.get(url + "/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(page.text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_and_timed_by_service_operation_and_status(
    server: LiveServer, iam: Any, sts: Any
) -> None:
    for _ in range(3):
        sts.get_caller_identity()
    with pytest.raises(botocore.exceptions.ClientError):
        iam.get_user(UserName="nobody")
    found = samples(server.url)
    requests = "rolehop_requests_total"
    assert value(found, requests, service="sts", operation="GetCallerIdentity", status="2xx") == 3
    assert value(found, requests, service="iam", operation="GetUser", status="4xx") == 1
    latency = "rolehop_request_duration_seconds_count"
    assert value(found, latency, service="sts", operation="GetCallerIdentity") == 3
    assert (
        value(found, "rolehop_request_duration_seconds_sum", service="sts", operation="GetCallerIdentity") > 0
    )


def signed(url: str, service: str, body: str) -> httpx.Response:
    """A request signed with the root key by botocore, whatever its Action and credential scope."""
    request = AWSRequest(method="POST", url=url + "/", data=body, headers={"Content-Type": FORM})
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), service, "us-east-1").add_auth(request)
    return httpx.post(url + "/", content=body, headers=dict(request.headers.items()))


def test_a_made_up_action_or_service_never_becomes_a_label(server: LiveServer) -> None:
    """One time series per distinct string a client sends would let anyone exhaust the server's memory."""
    assert signed(server.url, "iam", "Action=MadeUpActionOne&Version=2010-05-08").status_code == 400
    assert signed(server.url, "madeupservice", "Action=ListUsers&Version=2010-05-08").status_code == 403
    page = httpx.get(server.url + "/metrics").text
    assert "MadeUp" not in page and "madeup" not in page
    found = samples(server.url)
    assert value(found, "rolehop_requests_total", service="unknown", operation="unknown", status="4xx") == 2


def test_decisions_credentials_and_failed_passwords_and_mfa_codes_are_counted(
    server: LiveServer, iam: Any, clock: FakeClock
) -> None:
    keys = user_keys(iam, "alice")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="assume",
        PolicyDocument=allow("sts:AssumeRole", "iam:ChangePassword"),
    )
    role = iam.create_role(RoleName="ops", AssumeRolePolicyDocument=trust(server.account_id))["Role"]
    alice_sts = server.client_for("sts", keys)
    alice_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ops-session")
    with pytest.raises(botocore.exceptions.ClientError):
        server.client_for("iam", keys).list_users()  # no policy allows it
    iam.create_login_profile(UserName="alice", Password="Right-password-1")
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        server.client_for("iam", keys).change_password(OldPassword="wrong", NewPassword="Another-pass-2")
    device = enroll(iam, "alice", clock)
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        alice_sts.get_session_token(SerialNumber=device.serial, TokenCode="000000")
    alice_sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code())

    found = samples(server.url)
    assert value(found, "rolehop_sts_credentials_issued_total") == 2  # AssumeRole, GetSessionToken
    assert value(found, "rolehop_authorization_decisions_total", result="Allowed") >= 2
    assert value(found, "rolehop_authorization_decisions_total", result="ImplicitlyDenied") >= 1
    assert value(found, "rolehop_authentication_failures_total", factor="password") == 1
    assert value(found, "rolehop_authentication_failures_total", factor="mfa") == 1


def test_cache_hits_and_misses_and_store_transactions_are_counted(server: LiveServer, sts: Any) -> None:
    for _ in range(5):
        sts.get_caller_identity()
    found = samples(server.url)
    # the root key is loaded once, then answered from the cache
    assert value(found, "rolehop_cache_lookups_total", cache="access_keys", result="miss") >= 1
    assert value(found, "rolehop_cache_lookups_total", cache="access_keys", result="hit") >= 4
    assert value(found, "rolehop_store_transaction_duration_seconds_count", outcome="commit") >= 1


def test_throttled_requests_are_counted(server: LiveServer, iam: Any) -> None:
    """Five wrong codes block the user (pipeline.throttle): the sixth is refused before it is checked."""
    keys = user_keys(iam, "bob")
    iam.put_user_policy(
        UserName="bob",
        PolicyName="sessions",
        PolicyDocument=allow("sts:*"),
    )
    device = enroll(iam, "bob", server.clock)
    bob = server.client_for("sts", keys)
    codes = []
    for _ in range(6):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            bob.get_session_token(SerialNumber=device.serial, TokenCode="000000")
        codes.append(refused.value.response["Error"]["Code"])
    assert codes[-1] == "LimitExceeded", codes
    found = samples(server.url)
    assert value(found, "rolehop_authentication_throttled_total") == 1
    assert value(found, "rolehop_authentication_failures_total", factor="mfa") == 5


def test_requests_over_the_rate_limit_are_counted_as_throttled(tmp_path: Path, clock: FakeClock) -> None:
    live = LiveServer(tmp_path / "data", clock, rate_limit=1, rate_burst=2)
    try:
        answers = []
        for _ in range(4):  # at one instant, without an SDK's retries: the burst passes, then Throttling
            answer = signed(live.url, "sts", "Action=GetCallerIdentity&Version=2011-06-15")
            answers.append(
                "Throttling" if b"<Code>Throttling</Code>" in answer.content else answer.status_code
            )
        assert answers == [200, 200, "Throttling", "Throttling"], answers
        found = samples(live.url)
        throttled = value(
            found, "rolehop_throttled_requests_total", service="sts", operation="GetCallerIdentity"
        )
        assert throttled == 2
        # a quota's LimitExceeded is no throttle
        iam = live.client("iam")
        clock.advance(60)  # the bucket refills
        iam.create_user(UserName="keys")
        for _ in range(2):
            clock.advance(5)
            iam.create_access_key(UserName="keys")
        clock.advance(5)
        with pytest.raises(botocore.exceptions.ClientError, match="LimitExceeded"):
            iam.create_access_key(UserName="keys")
        assert (
            value(
                samples(live.url),
                "rolehop_throttled_requests_total",
                service="iam",
                operation="CreateAccessKey",
            )
            == 0
        )
    finally:
        live.stop()


def test_metrics_can_be_turned_off(server: LiveServer) -> None:
    config = replace(server.config, metrics=False)  # what --no-metrics resolves to
    off = RolehopApp(build_runtime(config, clock=server.clock), config)

    async def ask(path: str) -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://rolehop") as c:
            return (await c.get(path)).status_code

    assert anyio.run(ask, "/metrics") == 404
    assert anyio.run(ask, "/_rolehop/live") == 200


def test_live_answers_while_the_process_does(server: LiveServer) -> None:
    answer = httpx.get(server.url + "/_rolehop/live")
    assert answer.status_code == 200
    assert answer.json() == {"status": "live"}


def test_health_is_503_while_the_schema_is_not_this_rolehops(server: LiveServer) -> None:
    """As when another node has migrated the shared store to a newer rolehop's schema."""
    assert httpx.get(server.url + "/_rolehop/health").status_code == 200
    engine = server.app.rt.store.engine  # type: ignore[attr-defined]  # the SQL store behind the port
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    answer = httpx.get(server.url + "/_rolehop/health")
    assert answer.status_code == 503
    assert answer.json()["reason"] == f"the store's schema is at ffff, not {head}"
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert httpx.get(server.url + "/_rolehop/health").status_code == 200


@pytest.fixture
def pg_server(tmp_path: Path, clock: FakeClock, pg_url: str) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "data", clock, database_url=pg_url)
    yield live
    live.stop()


def test_health_is_503_while_the_store_is_unreachable(pg_server: LiveServer, pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        assert httpx.get(pg_server.url + "/_rolehop/health").status_code == 200
        with admin.connect() as conn:  # the database refuses new connections and drops the open ones
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            )
        answer = httpx.get(pg_server.url + "/_rolehop/health")
        assert answer.status_code == 503
        assert answer.json()["reason"] == "the store is unreachable"
        assert httpx.get(pg_server.url + "/_rolehop/live").status_code == 200
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert httpx.get(pg_server.url + "/_rolehop/health").status_code == 200
    finally:
        admin.dispose()
