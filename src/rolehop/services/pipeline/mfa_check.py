"""Checking an MFA code: for STS (GetSessionToken, AssumeRole with SerialNumber + TokenCode) and for
console sign-in. One place decides whether a code is good:

- the device must be enabled for the user who authenticates;
- the code must be the device's TOTP within one 30-second step of the request time (plus the drift
  ResyncMFADevice learnt), compared in constant time (core.totp);
- its time step must be newer than the last one accepted for the device. The store records it with
  a conditional update, so a code is accepted once across every node and restart (the replay guard);
- failures are counted per user and per source address, and a throttled user or address is refused
  before any code is looked at (services.throttle).
"""

from __future__ import annotations

from datetime import datetime

from rolehop.core.entities import Identity, MfaDevice
from rolehop.core.errors import AccessDenied
from rolehop.core.totp import InvalidToken, Totp
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.pipeline.throttle import Subject, check_not_throttled, record_failure, record_success

MFA_FAILED = (
    "MultiFactorAuthentication failed, unable to validate MFA code. "
    "Please verify your MFA serial number is valid and associated with this user."
)
INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
SEED_PURPOSE = b"rolehop/mfa-seed/"
WINDOW = 1  # steps either side of now: RFC 6238 section 5.2's "one time step" of network delay


def seal_seed(rt: Runtime, device_id: str, seed: bytes) -> bytes:
    """The device's secret sealed at rest, bound to this device (a blob cannot be moved to another)."""
    return rt.ring.seal(seed, purpose=SEED_PURPOSE + device_id.encode(), nonce=rt.random(12))


def device_totp(rt: Runtime, device: MfaDevice) -> Totp:
    _kid, seed = rt.ring.open(device.sealed_seed, purpose=SEED_PURPOSE + device.device_id.encode())
    return Totp(seed)


def check_mfa(call: Call, serial_number: str | None, token_code: str | None) -> None:
    """STS's check: the caller must be an IAM user (long-term keys or its GetSessionToken session)
    and the code one of its own device's. Raises AccessDenied with AWS's messages."""
    caller = call.caller
    user = caller.identity if caller.kind == "user" else None
    if user is None or not serial_number:
        raise AccessDenied(MFA_FAILED)
    verify_user_code(
        call.runtime, user, serial_number, token_code or "", now=call.now, source_ip=call.source_ip
    )


def verify_user_code(
    rt: Runtime, user: Identity, serial_number: str | None, code: str, *, now: datetime, source_ip: str = ""
) -> MfaDevice:
    """Accepts `code` once for `user`'s device `serial_number` (None: any of the user's devices, as
    console sign-in asks for "the" code). Returns the device; raises AccessDenied or LimitExceeded."""
    who = Subject(user.unique_id, user.name, source_ip)
    check_not_throttled(rt, who, now)
    with rt.store.transaction() as tx:
        candidates = (
            [tx.get_mfa_device(serial_number)] if serial_number else tx.mfa_devices_of(user.unique_id)
        )
    devices = [d for d in candidates if d is not None and d.user_id == user.unique_id]
    if not devices:
        record_failure(rt, who, now)
        raise AccessDenied(MFA_FAILED)
    for device in devices:
        try:
            step = device_totp(rt, device).verify(
                code, at=now, window=WINDOW, drift=device.drift_steps, after=device.last_step
            )
        except InvalidToken:
            continue
        with rt.store.transaction() as tx:
            fresh = tx.advance_mfa_step(device.device_id, step)
        if fresh:
            record_success(rt, who)
            return device
    record_failure(rt, who, now)
    raise AccessDenied(INVALID_CODE)
