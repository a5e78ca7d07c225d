"""The client's address and scheme when rolehop sits behind reverse proxies.

X-Forwarded-For and X-Forwarded-Proto are believed only on a connection from a proxy the operator
named (`serve --forwarded-allow-ips`). From anyone else they are the client's own claim: believing it
would let a plain-HTTP client set aws:SecureTransport, and give each password or MFA guess a fresh
source address for the throttle and for aws:SourceIp. The RFC 7239 `Forwarded` header is not read
(nor is it by uvicorn); a proxy that sends only that one is seen as the client.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

Network = IPv4Network | IPv6Network
Scope = MutableMapping[str, Any]
_SCHEMES = ("http", "https")


def behind_proxies(scope: Scope, trusted: Sequence[Network]) -> Scope:
    """The ASGI scope with `client` and `scheme` as the named proxies report them; the scope itself
    when the connection does not come from one of them."""
    peer = (scope.get("client") or ("", 0))[0]
    if not _is_trusted(peer, trusted):
        return scope
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    client = _client(peer, _values(headers, b"x-forwarded-for"), trusted)
    protos = _values(headers, b"x-forwarded-proto")
    # the nearest proxy's word: a client may have sent its own header, which a proxy appends to
    scheme = protos[-1].lower() if protos and protos[-1].lower() in _SCHEMES else scope.get("scheme", "http")
    return {**scope, "client": (client, 0) if client != peer else scope["client"], "scheme": scheme}


def _client(peer: str, hops: Sequence[str], trusted: Sequence[Network]) -> str:
    """Walking back from the nearest hop, the first address that is not a named proxy (uvicorn's
    rule); the farthest one when all are proxies. A malformed entry ends the walk at the last
    address a named proxy vouched for."""
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return client
        client = address
        if not _is_trusted(address, trusted):
            return client
    return client


def _values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every comma-separated entry of every header `name`, in the order sent."""
    found = []
    for key, value in headers:
        if key.lower() == name:
            found += [part.strip() for part in value.decode("latin-1").split(",")]
    return found


def _address(entry: str) -> str | None:
    """An entry's address in its canonical spelling ("203.0.113.7", "2001:db8::1"), without the port
    some proxies add ("203.0.113.7:5123", "[2001:db8::1]:5123"); None when it is not one."""
    if entry.startswith("[") and "]" in entry:
        entry = entry[1 : entry.index("]")]
    elif entry.count(":") == 1:
        entry = entry.split(":", 1)[0]
    try:
        return str(ip_address(entry))
    except ValueError:
        return None


def _is_trusted(host: str, trusted: Sequence[Network]) -> bool:
    if not trusted:
        return False
    try:
        address: IPv4Address | IPv6Address = ip_address(host)
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return any(address in network for network in trusted)
