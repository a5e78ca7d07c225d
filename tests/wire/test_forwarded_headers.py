"""rolehop.wire.forwarded: whose X-Forwarded-For / X-Forwarded-Proto are believed, and how a chain of
proxies is read."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest

from rolehop.wire.forwarded import behind_proxies

PROXIES = (ip_network("10.0.0.0/8"), ip_network("2001:db8::/32"))


def scope(peer: str, *headers: tuple[str, str], scheme: str = "http") -> dict[str, Any]:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    return {"type": "http", "client": (peer, 51000), "scheme": scheme, "headers": raw}


def seen(peer: str, *headers: tuple[str, str], trusted: Any = PROXIES) -> tuple[str, str]:
    result = behind_proxies(scope(peer, *headers), trusted)
    return result["client"][0], result["scheme"]


def test_nothing_is_believed_when_no_proxy_is_named() -> None:
    claims = (("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"))
    original = scope("127.0.0.1", *claims)
    assert behind_proxies(original, ()) is original
    assert seen("192.0.2.1", *claims) == ("192.0.2.1", "http")  # a peer that is not a named proxy


def test_a_named_proxy_gives_the_client_and_scheme() -> None:
    result = behind_proxies(
        scope("10.1.2.3", ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")), PROXIES
    )
    assert (result["client"], result["scheme"]) == (("203.0.113.7", 0), "https")


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),  # a client's own claim, then the real client
        ("198.51.100.1, 203.0.113.7, 10.9.9.9", "203.0.113.7"),  # through two named proxies
        ("10.5.5.5, 10.9.9.9", "10.5.5.5"),  # every hop a proxy: the farthest
        ("203.0.113.7:5123", "203.0.113.7"),  # a port some proxies add
        ("[2001:db9::1]:443, 2001:0db8::7", "2001:db9::1"),  # IPv6, bracketed with a port
        ("198.51.100.1, not-an-address", "10.1.2.3"),  # garbage: the proxy itself is the client
        ("", "10.1.2.3"),
    ],
)
def test_a_chain_is_read_from_the_nearest_hop_back(forwarded_for: str, client: str) -> None:
    assert seen("10.1.2.3", ("X-Forwarded-For", forwarded_for))[0] == client


def test_repeated_headers_read_as_one_list() -> None:
    headers = (("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "203.0.113.7, 10.2.2.2"))
    assert seen("10.1.2.3", *headers)[0] == "203.0.113.7"


@pytest.mark.parametrize(
    ("proto", "scheme"),
    [("https", "https"), ("HTTPS", "https"), ("https, http", "http"), ("gopher", "http"), ("", "http")],
)
def test_the_nearest_proxys_scheme_is_the_one_believed(proto: str, scheme: str) -> None:
    assert seen("10.1.2.3", ("X-Forwarded-Proto", proto))[1] == scheme


def test_an_ipv4_peer_on_a_dual_stack_socket_is_still_recognised() -> None:
    assert seen("::ffff:10.1.2.3", ("X-Forwarded-For", "203.0.113.7")) == ("203.0.113.7", "http")


def test_a_connection_without_an_address_is_never_a_proxy() -> None:
    original = {
        "type": "http",
        "client": None,
        "scheme": "http",
        "headers": [(b"x-forwarded-proto", b"https")],
    }
    assert behind_proxies(original, (ip_network("0.0.0.0/0"),)) is original
