"""Parsing the typed values of condition operators; each parser returns None for a bad value.

Dates: ISO 8601 (date, date-time, fractional seconds, `Z` or an offset; no offset means UTC) or
epoch time. Epoch values are seconds (aws:EpochTime); a value of 10^11 or more would be a date
after the year 5000 in seconds and is read as milliseconds, which is what JavaScript-based tools
emit. Dates become integer microseconds since the epoch, so comparisons are exact.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# (IP version, network address as int, netmask as int) and (IP version, address as int):
# integer masks compare much faster than ipaddress objects
IpNetwork = tuple[int, int, int]
IpAddr = tuple[int, int]

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
_MS_THRESHOLD = 10**11
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=4096)
def parse_number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


@lru_cache(maxsize=4096)
def parse_date(text: str) -> int | None:
    """Microseconds since the epoch."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        number = Decimal(text)
        scale = 1_000 if abs(number) >= _MS_THRESHOLD else 1_000_000
        return int(number * scale)
    m = _ISO.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        when = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC
        )
    except ValueError:
        return None
    micros = int((fraction or "0").ljust(6, "0")[:6])
    offset = _offset_seconds(zone)
    if offset is None:
        return None
    delta = when - _EPOCH_START
    return (delta.days * 86_400 + delta.seconds - offset) * 1_000_000 + micros


def _offset_seconds(zone: str | None) -> int | None:
    if zone is None or zone in ("Z", "z"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    return sign * (hours * 3600 + minutes * 60)


def parse_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return None


def parse_network(text: str) -> IpNetwork | None:
    """A CIDR block; a bare address is a /32 (or /128) block."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return net.version, int(net.network_address), int(net.netmask)


@lru_cache(maxsize=4096)
def parse_address(text: str) -> IpAddr | None:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return addr.version, int(addr)


def in_network(addr: IpAddr, net: IpNetwork) -> bool:
    return addr[0] == net[0] and addr[1] & net[2] == net[1]


def parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
