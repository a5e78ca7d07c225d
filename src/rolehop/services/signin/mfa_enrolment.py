"""The console's MFA enrolment: Virtual MFA device -> Continue -> QR code -> two successive codes.

The device is made and enabled by IAM's own operations (CreateVirtualMFADevice, EnableMFADevice)
called as the signed-in user, so the policy engine decides. CreateVirtualMFADevice returns the seed
once; until the codes are in, the console keeps it sealed in the session (never in the page's URL,
never in a cookie), so a mistyped code does not lose the QR code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from rolehop.core import arn
from rolehop.core.errors import EntityAlreadyExists
from rolehop.core.keyring import UnsealError
from rolehop.services.pipeline.call import Call
from rolehop.services.ports.console import ConsoleSession
from rolehop.services.signin.sessions import Console, invoke, save_session

PENDING_PURPOSE = b"rolehop/console-pending-mfa/"


@dataclass(frozen=True)
class PendingEnrolment:
    user_name: str
    serial_number: str
    secret: str  # base32, as "Show secret key" shows it
    qr_png: bytes


def _seal(console: Console, session: ConsoleSession, pending: PendingEnrolment) -> bytes:
    data = {
        "user": pending.user_name,
        "serial": pending.serial_number,
        "secret": pending.secret,
        "qr": pending.qr_png.hex(),
    }
    purpose = PENDING_PURPOSE + session.session_id.encode()
    return console.rt.ring.seal(json.dumps(data).encode(), purpose=purpose, nonce=console.rt.random(12))


def pending_enrolment(console: Console, session: ConsoleSession) -> PendingEnrolment | None:
    if session.pending_mfa is None:
        return None
    try:
        _kid, raw = console.rt.ring.open(
            session.pending_mfa, purpose=PENDING_PURPOSE + session.session_id.encode()
        )
        data = json.loads(raw)
        return PendingEnrolment(data["user"], data["serial"], data["secret"], bytes.fromhex(data["qr"]))
    except (UnsealError, ValueError, KeyError):
        return None


def begin(
    console: Console, session: ConsoleSession, call: Call, user_name: str
) -> tuple[ConsoleSession, PendingEnrolment]:
    """Creates the virtual device, named after the user as the self-management policy expects. A
    device of that name left unassigned by an unfinished enrolment is deleted and made anew."""
    params = {"VirtualMFADeviceName": user_name}
    try:
        created = invoke(call, "iam", "CreateVirtualMFADevice", params)
    except EntityAlreadyExists:
        serial = arn.iam_arn(call.caller.account_id, "mfa", "/", user_name)
        invoke(call, "iam", "DeleteVirtualMFADevice", {"SerialNumber": serial})  # DeleteConflict if in use
        created = invoke(call, "iam", "CreateVirtualMFADevice", params)
    device = created["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    pending = PendingEnrolment(
        user_name,
        str(device["SerialNumber"]),
        seed.decode() if isinstance(seed, bytes) else str(seed),
        bytes(device["QRCodePNG"]),
    )
    session = replace(session, pending_mfa=_seal(console, session, pending))
    save_session(console, session)
    return session, pending


def finish(console: Console, session: ConsoleSession, call: Call, code1: str, code2: str) -> ConsoleSession:
    """EnableMFADevice with two successive codes; the pending seed is forgotten once it succeeds."""
    pending = pending_enrolment(console, session)
    if pending is None:
        raise ValueError("no MFA enrolment is in progress")
    invoke(
        call,
        "iam",
        "EnableMFADevice",
        {
            "UserName": pending.user_name,
            "SerialNumber": pending.serial_number,
            "AuthenticationCode1": code1.strip(),
            "AuthenticationCode2": code2.strip(),
        },
    )
    session = replace(session, pending_mfa=None)
    save_session(console, session)
    return session


def remove(call: Call, user_name: str, serial_number: str) -> None:
    """Deactivates the user's device and deletes it (a virtual device unassigned is of no use)."""
    invoke(call, "iam", "DeactivateMFADevice", {"UserName": user_name, "SerialNumber": serial_number})
    invoke(call, "iam", "DeleteVirtualMFADevice", {"SerialNumber": serial_number})
