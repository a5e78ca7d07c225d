"""TOTP in the pure core: RFC 6238 and RFC 4226 test vectors, the verification window, the replay
guard's `after`, two consecutive codes, and a constant-time comparison of every candidate."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolehop.core import totp as totp_module
from rolehop.core.totp import InvalidToken, Totp, b32_secret, hotp, key_from_b32, new_secret, otpauth_uri

SHA1_KEY = b"12345678901234567890"
SHA256_KEY = b"12345678901234567890123456789012"
SHA512_KEY = b"1234567890123456789012345678901234567890123456789012345678901234"

# RFC 6238 Appendix B: time (s), SHA-1, SHA-256, SHA-512 (8 digits)
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
# RFC 4226 Appendix D: HOTP values for counters 0..9 with the SHA-1 key
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

T0 = datetime(2026, 3, 1, 12, 0, 15, tzinfo=UTC)  # 15 s into a 30-second step
KEY = bytes(range(20))


@pytest.mark.parametrize(("seconds", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_vectors(seconds: int, sha1: str, sha256: str, sha512: str) -> None:
    at = datetime.fromtimestamp(seconds, UTC)
    assert Totp(SHA1_KEY, digits=8).generate(at) == sha1
    assert Totp(SHA256_KEY, digits=8, algorithm="sha256").generate(at) == sha256
    assert Totp(SHA512_KEY, digits=8, algorithm="sha512").generate(seconds) == sha512
    # and verification accepts exactly the vector at that time
    assert Totp(SHA1_KEY, digits=8).verify(sha1, at=at, window=0) == seconds // 30


@pytest.mark.parametrize(("counter", "code"), list(enumerate(RFC4226)))
def test_rfc4226_vectors(counter: int, code: str) -> None:
    assert hotp(SHA1_KEY, counter) == code


def test_aws_parameters_are_the_defaults() -> None:
    t = Totp(KEY)
    assert (t.digits, t.period, t.algorithm) == (6, 30, "sha1")
    assert len(t.generate(T0)) == 6
    assert repr(KEY) not in repr(t)


def test_window_accepts_one_step_either_side_and_no_more() -> None:
    t = Totp(KEY)
    now = t.step(T0)
    for offset in (-1, 0, 1):
        assert t.verify(t.code(now + offset), at=T0) == now + offset
    for offset in (-2, 2, 10):
        with pytest.raises(InvalidToken):
            t.verify(t.code(now + offset), at=T0)
    with pytest.raises(InvalidToken):
        t.verify(t.code(now), at=T0 + timedelta(seconds=75))  # two and a half steps later


def test_after_refuses_a_used_step_and_older_ones() -> None:
    t = Totp(KEY)
    now = t.step(T0)
    used = t.verify(t.code(now), at=T0)
    with pytest.raises(InvalidToken):
        t.verify(t.code(now), at=T0, after=used)  # the same code again
    with pytest.raises(InvalidToken):
        t.verify(t.code(now - 1), at=T0, after=used)  # an older one, still inside the window
    assert t.verify(t.code(now + 1), at=T0 + timedelta(seconds=30), after=used) == now + 1


def test_drift_moves_the_window() -> None:
    t = Totp(KEY)
    now = t.step(T0)
    with pytest.raises(InvalidToken):
        t.verify(t.code(now + 5), at=T0)
    assert t.verify(t.code(now + 5), at=T0, drift=5) == now + 5


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "12 456", "\uff11\uff12\uff13\uff14\uff15\uff16", "-12345"]
)
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidToken):
        Totp(KEY).verify(code, at=T0)


def test_two_consecutive_codes() -> None:
    t = Totp(KEY)
    now = t.step(T0)
    # typed one after the other: the previous step's code, then the current one
    assert t.verify_consecutive(t.code(now - 1), t.code(now), at=T0) == now
    # typed as an app shows them: the first, then (30 s later) the next
    assert t.verify_consecutive(t.code(now), t.code(now + 1), at=T0 + timedelta(seconds=30)) == now + 1
    refused = [
        (t.code(now), t.code(now)),  # the same code twice
        (t.code(now), t.code(now - 1)),  # reversed
        (t.code(now - 1), t.code(now + 1)),  # not consecutive
        (t.code(now - 4), t.code(now - 3)),  # stale
        (t.code(now + 3), t.code(now + 4)),  # from the future
    ]
    for first, second in refused:
        with pytest.raises(InvalidToken):
            t.verify_consecutive(first, second, at=T0)
    with pytest.raises(InvalidToken):  # codes at or before the last used step
        t.verify_consecutive(t.code(now - 1), t.code(now), at=T0, after=now - 1)


def test_resync_window_finds_a_drifted_device() -> None:
    t = Totp(KEY)
    now = t.step(T0)
    with pytest.raises(InvalidToken):
        t.verify_consecutive(t.code(now + 7), t.code(now + 8), at=T0)
    assert t.verify_consecutive(t.code(now + 7), t.code(now + 8), at=T0, window=10) == now + 8


def test_every_candidate_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(totp_module.hmac, "compare_digest", counting)
    t = Totp(KEY)
    t.verify(t.code(t.step(T0) - 1), at=T0)  # matches the first candidate: no early exit
    assert len(calls) == 3


def test_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Totp(KEY).generate(datetime(2026, 1, 1))


def test_keys_and_secrets() -> None:
    with pytest.raises(ValueError):
        Totp(b"short")
    with pytest.raises(ValueError):
        new_secret(b"x" * 19)
    key = new_secret(bytes(range(32)))
    assert len(key) == 20
    text = b32_secret(key)
    assert len(text) == 32 and "=" not in text
    assert key_from_b32(text.lower()) == key
    assert key_from_b32("JBSW Y3DP EHPK 3PXP") == b"Hello!\xde\xad\xbe\xef"
    with pytest.raises(ValueError):
        key_from_b32("not base32!")


def test_otpauth_uri() -> None:
    uri = otpauth_uri("JBSWY3DPEHPK3PXP", account_name="alice@aster-key", issuer="rolehop")
    assert uri == (
        "otpauth://totp/rolehop:alice@aster-key?secret=JBSWY3DPEHPK3PXP&issuer=rolehop"
        "&algorithm=SHA1&digits=6&period=30"
    )
    assert "My%20Org" in otpauth_uri("A", account_name="bob", issuer="My Org")


@given(key=st.binary(min_size=10, max_size=64), seconds=st.integers(min_value=0, max_value=2**34))
def test_a_generated_code_verifies_at_its_time(key: bytes, seconds: int) -> None:
    t = Totp(key)
    code = t.generate(seconds)
    assert t.verify(code, at=seconds) == seconds // 30
    with pytest.raises(InvalidToken):
        t.verify(code, at=seconds, after=seconds // 30 + 1)
