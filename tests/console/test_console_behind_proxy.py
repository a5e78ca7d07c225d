"""The console reads the client's address and scheme from proxy headers only when the operator named
the proxy: a guesser cannot give each password a fresh source address, nor a plain-HTTP client make
the console believe it is on HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
import yaml
from console_helpers import AK, EXAMPLE, ConsoleClient, csrf_of, give_password

from rolehop.services.admin.apply import apply_spec, parse_spec
from support import FakeClock, LiveServer

HTTPS = {"X-Forwarded-Proto": "https"}


def guess(client: ConsoleClient, password: str, source: str) -> httpx.Response:
    """One sign-in attempt as alice, claiming (X-Forwarded-For) to come from `source`."""
    form = {"account": AK, "username": "alice", "password": password, "next": "/"}
    csrf = csrf_of(client.get("/signin").text)
    return client.http.post("/signin", data={"csrf_token": csrf, **form}, headers={"X-Forwarded-For": source})


@pytest.fixture
def proxied_org(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    """The example organization behind a proxy on this machine that the operator named."""
    live = LiveServer(tmp_path / "data", clock, account_id=AK, forwarded_allow_ips=(ip_network("127.0.0.1"),))
    apply_spec(live.app.rt, parse_spec(yaml.safe_load(EXAMPLE.read_text())))
    give_password(live, "alice")
    yield live
    live.stop()


def test_a_fresh_forwarded_for_per_guess_does_not_escape_the_throttle(client: ConsoleClient) -> None:
    answers = [guess(client, f"wrong-{n}", f"198.51.100.{n}").status_code for n in range(6)]
    assert answers == [401] * 5 + [429]  # all six came from 127.0.0.1, whatever they claimed


def test_behind_a_named_proxy_each_client_address_counts_on_its_own(proxied_org: LiveServer) -> None:
    client = ConsoleClient(proxied_org)
    try:
        answers = [guess(client, f"wrong-{n}", "198.51.100.7").status_code for n in range(6)]
        assert answers == [401] * 5 + [429]
        # another client behind the same proxy is not the guesser
        assert guess(client, "wrong-again", "203.0.113.9").status_code == 401
    finally:
        client.close()


def test_forwarded_proto_is_believed_only_from_a_named_proxy(
    client: ConsoleClient, proxied_org: LiveServer
) -> None:
    page = client.get("/signin", headers=HTTPS)
    assert "rolehop-signin=" in page.headers["set-cookie"]
    assert "__Host-" not in page.headers["set-cookie"] and "secure" not in page.headers["set-cookie"].lower()
    assert "strict-transport-security" not in page.headers
    proxied = ConsoleClient(proxied_org)
    try:
        page = proxied.get("/signin", headers=HTTPS)
        assert page.headers["set-cookie"].startswith("__Host-rolehop-signin=")
        assert "secure" in page.headers["set-cookie"].lower()
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        # without the header, the proxy's own connection is plain HTTP
        assert "__Host-" not in proxied.get("/signin").headers["set-cookie"]
    finally:
        proxied.close()
