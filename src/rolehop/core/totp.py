"""Time-based one-time passwords (RFC 6238 on RFC 4226's HOTP), as virtual MFA devices use them.

Pure: the time is passed in (`at=`), the key is given. `verify` raises `InvalidToken`, never returns
False, and compares every candidate code in constant time. A verified code's time step is returned
so the caller can store it: a step at or below the last accepted one is refused (the replay guard).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import quote

Algorithm = Literal["sha1", "sha256", "sha512"]
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


class InvalidToken(Exception):
    """The code is malformed, wrong, outside the accepted window, or already used."""


def hotp(key: bytes, counter: int, *, digits: int = 6, algorithm: Algorithm = "sha1") -> str:
    """RFC 4226 section 5.3: dynamic truncation of HMAC(key, counter) to `digits` decimal digits."""
    if not 6 <= digits <= 10:
        raise ValueError("digits must be 6..10")
    digest = hmac.new(key, struct.pack(">Q", counter), _DIGESTS[algorithm]).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def _seconds(at: datetime | float) -> float:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("a TOTP time must be timezone-aware")
        return at.timestamp()
    return float(at)


@dataclass(frozen=True)
class Totp:
    """One device's generator: its secret key and RFC 6238 parameters (AWS: SHA-1, 6 digits, 30 s)."""

    key: bytes = field(repr=False)
    digits: int = 6
    period: int = 30
    algorithm: Algorithm = "sha1"
    t0: int = 0

    def __post_init__(self) -> None:
        if len(self.key) < 10:
            raise ValueError("a TOTP key needs at least 80 bits (RFC 4226 section 4)")
        if self.period < 1:
            raise ValueError("period must be positive")

    def step(self, at: datetime | float) -> int:
        """The time step T = floor((unix time - T0) / X) of RFC 6238 section 4.2."""
        return int((_seconds(at) - self.t0) // self.period)

    def code(self, step: int) -> str:
        return hotp(self.key, step, digits=self.digits, algorithm=self.algorithm)

    def generate(self, at: datetime | float) -> str:
        return self.code(self.step(at))

    def _matches(self, code: str, steps: range) -> list[int]:
        """Every step in `steps` whose code equals `code`, comparing all of them (no early exit)."""
        given = code.encode()
        found = []
        for step in steps:
            if hmac.compare_digest(self.code(step).encode(), given):
                found.append(step)
        return found

    def _well_formed(self, code: str) -> None:
        if len(code) != self.digits or not code.isascii() or not code.isdigit():
            raise InvalidToken(f"a code is {self.digits} digits")

    def verify(
        self, code: str, *, at: datetime | float, window: int = 1, drift: int = 0, after: int | None = None
    ) -> int:
        """The step `code` belongs to, within `window` steps of now (+ `drift`) and above `after`.

        Raises InvalidToken otherwise. `after` is the last step accepted for this device: a code is
        accepted at most once, and never one older than a code already used (RFC 6238 section 5.2).
        """
        self._well_formed(code)
        now = self.step(at) + drift
        matched = [
            s
            for s in self._matches(code, range(max(0, now - window), now + window + 1))
            if after is None or s > after
        ]
        if not matched:
            raise InvalidToken("invalid or already used code")
        return max(matched)

    def verify_consecutive(
        self, code1: str, code2: str, *, at: datetime | float, window: int = 1, after: int | None = None
    ) -> int:
        """Two successive codes, as device enrolment and resynchronization take them: `code2` is the
        code of step s within `window` steps of now and `code1` that of step s - 1. Returns s."""
        self._well_formed(code1)
        self._well_formed(code2)
        now = self.step(at)
        seconds = self._matches(code2, range(max(0, now - window), now + window + 1))
        firsts = set(self._matches(code1, range(max(0, now - window - 1), now + window)))
        matched = [s for s in seconds if s - 1 in firsts and (after is None or s - 1 > after)]
        if not matched:
            raise InvalidToken("the codes are not two consecutive codes of this device")
        return max(matched)


def new_secret(random: bytes) -> bytes:
    """A device secret from the caller's random bytes: 160 bits, RFC 4226's recommended length."""
    if len(random) < 20:
        raise ValueError("not enough random bytes")
    return random[:20]


def b32_secret(key: bytes) -> str:
    """The secret as authenticator apps take it: base32 without padding (AWS's Base32StringSeed)."""
    return base64.b32encode(key).decode().rstrip("=")


def key_from_b32(text: str) -> bytes:
    cleaned = text.replace(" ", "").upper()
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as e:
        raise ValueError("not a base32 secret") from e


def otpauth_uri(secret_b32: str, *, account_name: str, issuer: str, digits: int = 6, period: int = 30) -> str:
    """The key URI authenticator apps scan: otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…"""
    label = quote(f"{issuer}:{account_name}", safe=":@")
    return (
        f"otpauth://totp/{label}?secret={secret_b32}&issuer={quote(issuer, safe='')}"
        f"&algorithm=SHA1&digits={digits}&period={period}"
    )
