"""X-Forwarded-For and X-Forwarded-Proto are a proxy's word only when the operator named the proxy
(`serve --forwarded-allow-ips`); from anyone else they are a client's claim and change nothing:
not aws:SecureTransport, not aws:SourceIp."""

from __future__ import annotations

import json
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support import FakeClock, LiveServer, user_keys

CLAIMS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
# ListUsers only over HTTPS, ListGroups only from 203.0.113.0/24
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iam:ListUsers",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
        {
            "Effect": "Allow",
            "Action": "iam:ListGroups",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        },
    ],
}


def remote_user(server: LiveServer) -> dict[str, str]:
    """A user whose policy is POLICY; returns its access key."""
    iam = server.client("iam")
    keys = user_keys(iam, "remote")
    iam.put_user_policy(UserName="remote", PolicyName="conditions", PolicyDocument=json.dumps(POLICY))
    return keys


def sending(server: LiveServer, keys: dict[str, str], headers: dict[str, str]) -> Any:
    """An IAM client whose every request carries `headers`, added after signing, as a proxy (or a
    client pretending to be one) would."""
    client = server.client_for("iam", keys)

    def add_headers(request: Any, **_: Any) -> None:
        request.headers.update(headers)

    client.meta.events.register("before-send", add_headers)
    return client


def denied(call: Any) -> bool:
    try:
        call()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied"
        return True
    return False


@pytest.fixture
def proxied(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    """A server told that its clients' connections come through a proxy on this machine."""
    live = LiveServer(tmp_path / "data", clock, forwarded_allow_ips=(ip_network("127.0.0.0/8"),))
    yield live
    live.stop()


def test_forwarded_headers_from_an_unnamed_proxy_are_a_clients_claim(server: LiveServer) -> None:
    client = sending(server, remote_user(server), CLAIMS)
    assert denied(client.list_users)  # aws:SecureTransport stays false on plain HTTP
    assert denied(client.list_groups)  # aws:SourceIp stays 127.0.0.1


def test_a_named_proxy_is_believed(proxied: LiveServer) -> None:
    keys = remote_user(proxied)
    client = sending(proxied, keys, CLAIMS)
    assert not denied(client.list_users)
    assert not denied(client.list_groups)
    # the proxy's own requests, without its headers, are what they are: plain HTTP from 127.0.0.1
    bare = sending(proxied, keys, {})
    assert denied(bare.list_users) and denied(bare.list_groups)


def test_only_the_named_proxies_are_believed(tmp_path: Path, clock: FakeClock) -> None:
    live = LiveServer(tmp_path / "data", clock, forwarded_allow_ips=(ip_network("10.0.0.0/8"),))
    try:
        client = sending(live, remote_user(live), CLAIMS)
        assert denied(client.list_users) and denied(client.list_groups)
    finally:
        live.stop()
