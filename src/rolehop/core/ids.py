"""AWS-shaped identifiers, made from random bytes the caller supplies (the core draws none)."""

from __future__ import annotations

import base64
import re

USER_PREFIX = "AIDA"
GROUP_PREFIX = "AGPA"
ROLE_PREFIX = "AROA"
POLICY_PREFIX = "ANPA"
INSTANCE_PROFILE_PREFIX = "AIPA"
LONG_TERM_KEY_PREFIX = "AKIA"
TEMPORARY_KEY_PREFIX = "ASIA"

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32: what AWS's unique IDs are drawn from

ACCOUNT_ID = re.compile(r"^\d{12}$")


def _base32(random: bytes, length: int) -> str:
    text = base64.b32encode(random).decode().rstrip("=")
    if len(text) < length:
        raise ValueError("not enough random bytes")
    return text[:length]


def unique_id(prefix: str, random: bytes) -> str:
    """A 21-character unique ID (AIDA…, AGPA…, AROA…, ANPA…) from at least 11 random bytes."""
    return prefix + _base32(random, 17)


def access_key_id(prefix: str, account_id: str, random: bytes) -> str:
    """A 20-character access key ID (AKIA…/ASIA…): 40 bits of account ID, then 40 random bits.

    Like AWS's own key IDs, it names its account, so GetAccessKeyInfo needs no lookup."""
    if len(random) < 5:
        raise ValueError("not enough random bytes")
    return prefix + _base32(int(account_id).to_bytes(5, "big") + random[:5], 16)


def account_of_key_id(key_id: str) -> str | None:
    """The account an AKIA/ASIA ID issued by rolehop belongs to, or None for another format."""
    body = key_id[4:]
    if len(key_id) != 20 or key_id[:4] not in (LONG_TERM_KEY_PREFIX, TEMPORARY_KEY_PREFIX):
        return None
    if any(c not in _ALPHABET for c in body):
        return None
    number = int.from_bytes(base64.b32decode(body)[:5], "big")
    return f"{number:012d}" if number < 10**12 else None


def secret_access_key(random: bytes) -> str:
    """A 40-character secret access key, as AWS issues them, from 30 random bytes."""
    if len(random) < 30:
        raise ValueError("not enough random bytes")
    return base64.b64encode(random[:30]).decode()


def is_account_id(text: str) -> bool:
    return bool(ACCOUNT_ID.match(text))
