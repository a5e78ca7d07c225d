"""Virtual MFA devices: CreateVirtualMFADevice, EnableMFADevice, ResyncMFADevice, DeactivateMFADevice,
DeleteVirtualMFADevice, ListMFADevices, ListVirtualMFADevices, GetMFADevice and device tags.

The seed is returned once, by CreateVirtualMFADevice (as base32 text and as a QR code PNG of the
otpauth:// URI), and is sealed with the key ring at rest. Enabling and resynchronizing take two
consecutive codes; the step of the second becomes the device's last used step, so the codes typed to
enable a device can never sign anything in.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import segno

from rolehop.core import arn
from rolehop.core.entities import Identity, MfaDevice
from rolehop.core.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from rolehop.core.ids import unique_id
from rolehop.core.totp import InvalidToken, b32_secret, new_secret, otpauth_uri
from rolehop.services.iam.common import (
    add_tags,
    check_new_path,
    existing,
    hold,
    paginate,
    remove_tag_keys,
    tag_shapes,
    tags_param,
)
from rolehop.services.iam.shapes import user_shape
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.mfa_check import device_totp, seal_seed
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.pipeline.throttle import (
    Subject,
    check_not_throttled,
    record_failure,
    record_success,
    release,
)

ISSUER = "rolehop"
DEVICES_PER_USER = 8  # IAM's quota of MFA devices per user
RESYNC_WINDOW = 10  # steps either side of now that ResyncMFADevice searches (5 minutes of drift)
DEVICE_ID_PREFIX = "MFAD"  # internal only: AWS gives MFA devices no unique ID
SERIAL_NUMBER_MAX = 256  # serialNumberType: a longer serial could be named in no later call


INVALID_CODES = "Authentication code for device is not valid."


def qr_png(uri: str) -> bytes:
    """A QR code (error correction M, 6 px modules, quiet zone of 4) that authenticator apps scan."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=6, border=4)
    return out.getvalue()


def _serial_not_found(serial: str) -> NoSuchEntity:
    return NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")


def _device(call: Call, serial: str) -> MfaDevice | None:
    with call.runtime.store.transaction() as tx:
        device = tx.get_mfa_device(serial)
    return device if device is not None and device.account_id == call.caller.account_id else None


def _owner(call: Call, p: Params, action: str) -> Identity:
    """The user named in the request, else the calling user itself; authorized for `action`."""
    name = p.get("UserName") or call.caller.user_name
    if name is None:
        raise NoSuchEntity("Must specify userName when calling with non-User credentials")
    return existing(call, "user", name, action)


def _users_device(call: Call, user: Identity, serial: str) -> MfaDevice:
    device = _device(call, serial)
    if device is None or device.user_id != user.unique_id:
        raise _serial_not_found(serial)
    return device


def device_shape(device: MfaDevice, user: Identity | None) -> dict[str, Any]:
    shape: dict[str, Any] = {"SerialNumber": device.serial_number}
    if user is not None:
        shape["User"] = user_shape(user)
    if device.enable_date is not None:
        shape["EnableDate"] = device.enable_date
    return shape


@operation("iam", "CreateVirtualMFADevice")
def create_virtual_mfa_device(call: Call, p: Params) -> Result:
    path = check_new_path(p.get("Path"))
    name = p["VirtualMFADeviceName"]
    account_id = call.caller.account_id
    serial = arn.iam_arn(account_id, "mfa", path, name)
    if len(serial) > SERIAL_NUMBER_MAX:
        raise InvalidInput(
            f"A virtual MFA device's serial number (its ARN, with path and name) has at most "
            f"{SERIAL_NUMBER_MAX} characters; this one would have {len(serial)}."
        )
    authorize(call, "iam:CreateVirtualMFADevice", serial)
    tags = tags_param(p)
    rt = call.runtime
    seed = new_secret(rt.random(20))
    device_id = unique_id(DEVICE_ID_PREFIX, rt.random(11))
    device = MfaDevice(device_id, serial, account_id, name, path, seal_seed(rt, device_id, seed), call.now)
    with rt.store.transaction() as tx:
        account = tx.get_account(account_id)
        tx.insert_mfa_device(device)
        add_tags(tx, "mfa", device_id, tags)
    secret = b32_secret(seed)
    label = f"{name}@{account.alias if account and account.alias else account_id}"
    shape: dict[str, Any] = {
        "SerialNumber": serial,
        "Base32StringSeed": secret.encode(),
        "QRCodePNG": qr_png(otpauth_uri(secret, account_name=label, issuer=ISSUER)),
    }
    if tags:
        shape["Tags"] = tag_shapes(tags)
    return {"VirtualMFADevice": shape}


@operation("iam", "EnableMFADevice")
def enable_mfa_device(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:EnableMFADevice")
    serial = p["SerialNumber"]
    device = _device(call, serial)
    if device is None:
        raise _serial_not_found(serial)
    if device.user_id is not None:
        raise EntityAlreadyExists("MFA Device is already in use.")
    try:
        step = device_totp(call.runtime, device).verify_consecutive(
            p["AuthenticationCode1"], p["AuthenticationCode2"], at=call.now, after=device.last_step
        )
    except InvalidToken as e:
        raise InvalidAuthenticationCode(INVALID_CODES) from e
    with call.runtime.store.transaction() as tx:
        hold(tx, user)  # the per-user device quota, one enable at a time
        if len(tx.mfa_devices_of(user.unique_id)) >= DEVICES_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {DEVICES_PER_USER}")
        current = tx.get_mfa_device(serial)
        if current is None or current.user_id is not None:
            raise EntityAlreadyExists("MFA Device is already in use.")
        tx.update_mfa_device(
            replace(current, user_id=user.unique_id, enable_date=call.now, last_step=step, drift_steps=0)
        )
    call.runtime.changed()
    return {}


@operation("iam", "ResyncMFADevice")
def resync_mfa_device(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:ResyncMFADevice")
    device = _users_device(call, user, p["SerialNumber"])
    rt = call.runtime
    # two codes are an oracle for the seed as much as one: resynchronizing is throttled like sign-in
    who = Subject(user.unique_id, user.name, call.source_ip)
    check_not_throttled(rt, who, call.now)
    totp = device_totp(rt, device)
    try:
        step = totp.verify_consecutive(
            p["AuthenticationCode1"],
            p["AuthenticationCode2"],
            at=call.now,
            window=RESYNC_WINDOW,
            after=device.last_step,
        )
    except InvalidToken as e:
        record_failure(rt, who, call.now)
        raise InvalidAuthenticationCode(INVALID_CODES) from e
    with rt.store.transaction() as tx:
        if not tx.advance_mfa_step(device.device_id, step):
            raise InvalidAuthenticationCode(INVALID_CODES)
        tx.update_mfa_device(replace(device, last_step=step, drift_steps=step - totp.step(call.now)))
    record_success(rt, who)
    rt.changed()
    return {}


@operation("iam", "DeactivateMFADevice")
def deactivate_mfa_device(call: Call, p: Params) -> Result:
    user = _owner(call, p, "iam:DeactivateMFADevice")
    device = _users_device(call, user, p["SerialNumber"])
    with call.runtime.store.transaction() as tx:
        tx.update_mfa_device(replace(device, user_id=None, enable_date=None, drift_steps=0))
        # a device taken away (lost, stolen) ends the sessions it may have opened (ASVS 3.3.3)
        tx.end_console_sessions(user.unique_id, keep=call.console_session_id)
    call.runtime.changed()
    return {}


@operation("iam", "DeleteVirtualMFADevice")
def delete_virtual_mfa_device(call: Call, p: Params) -> Result:
    serial = p["SerialNumber"]
    authorize(call, "iam:DeleteVirtualMFADevice", serial)
    device = _device(call, serial)
    if device is None:
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    if device.user_id is not None:
        raise DeleteConflict("MFA device is enabled for a user. Deactivate it before you delete it.")
    with call.runtime.store.transaction() as tx:
        tx.delete_mfa_device(device.device_id)
    call.runtime.changed()
    return {}


@operation("iam", "ListMFADevices")
def list_mfa_devices(call: Call, p: Params) -> Result:
    if not p.get("UserName") and call.caller.is_root:
        authorize(call, "iam:ListMFADevices", call.caller.arn)
        return {"MFADevices": [], "IsTruncated": False}  # the root user's devices are not managed here
    user = _owner(call, p, "iam:ListMFADevices")
    with call.runtime.store.transaction() as tx:
        devices = tx.mfa_devices_of(user.unique_id)
    page, more = paginate(
        sorted(devices, key=lambda d: d.serial_number.lower()), p, key=lambda d: d.serial_number.lower()
    )
    shapes = [
        {"UserName": user.name, "SerialNumber": d.serial_number, "EnableDate": d.enable_date} for d in page
    ]
    return {"MFADevices": shapes, **more}


@operation("iam", "ListVirtualMFADevices")
def list_virtual_mfa_devices(call: Call, p: Params) -> Result:
    account_id = call.caller.account_id
    authorize(call, "iam:ListVirtualMFADevices", arn.iam_arn(account_id, "mfa", "/", ""))
    status = p.get("AssignmentStatus") or "Any"
    with call.runtime.store.transaction() as tx:
        devices = tx.list_mfa_devices(account_id)
        if status == "Assigned":
            devices = [d for d in devices if d.user_id is not None]
        elif status == "Unassigned":
            devices = [d for d in devices if d.user_id is None]
        page, more = paginate(devices, p, key=lambda d: d.serial_number.lower())
        users = {d.user_id: tx.get_identity_by_id(d.user_id) for d in page if d.user_id}
        tags = {d.device_id: tx.tags_of("mfa", d.device_id) for d in page}
    shapes = []
    for d in page:
        shape = device_shape(d, users.get(d.user_id) if d.user_id else None)
        if tags[d.device_id]:
            shape["Tags"] = tag_shapes(tags[d.device_id])
        shapes.append(shape)
    return {"VirtualMFADevices": shapes, **more}


@operation("iam", "GetMFADevice")
def get_mfa_device(call: Call, p: Params) -> Result:
    user = _owner(call, p, "iam:GetMFADevice")
    device = _users_device(call, user, p["SerialNumber"])
    return {"UserName": user.name, "SerialNumber": device.serial_number, "EnableDate": device.enable_date}


def _tagged_device(call: Call, p: Params, action: str) -> MfaDevice:
    serial = p["SerialNumber"]
    authorize(call, action, serial)
    device = _device(call, serial)
    if device is None:
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    return device


@operation("iam", "TagMFADevice")
def tag_mfa_device(call: Call, p: Params) -> Result:
    device = _tagged_device(call, p, "iam:TagMFADevice")
    with call.runtime.store.transaction() as tx:
        add_tags(tx, "mfa", device.device_id, tags_param(p))
    return {}


@operation("iam", "UntagMFADevice")
def untag_mfa_device(call: Call, p: Params) -> Result:
    device = _tagged_device(call, p, "iam:UntagMFADevice")
    with call.runtime.store.transaction() as tx:
        remove_tag_keys(tx, "mfa", device.device_id, list(p["TagKeys"]))
    return {}


@operation("iam", "ListMFADeviceTags")
def list_mfa_device_tags(call: Call, p: Params) -> Result:
    device = _tagged_device(call, p, "iam:ListMFADeviceTags")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of("mfa", device.device_id)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}


def reset_user_mfa(rt: Runtime, account_id: str, user_name: str) -> list[str]:
    """`rolehop mfa reset USER`: removes the user's MFA devices (enabled ones, and an unfinished
    enrolment named after the user), ends their console sessions and lifts their throttle, so they
    can enroll anew.
    Returns the serial numbers removed. An administrator's tool: it works on the store directly."""
    removed: list[str] = []
    with rt.store.transaction() as tx:
        user = tx.get_identity("user", account_id, user_name)
        if user is None:
            raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
        stale = [
            d
            for d in tx.list_mfa_devices(account_id)
            if d.user_id is None and d.name.lower() == user.name.lower()
        ]
        for device in [*tx.mfa_devices_of(user.unique_id), *stale]:
            tx.delete_mfa_device(device.device_id)
            removed.append(device.serial_number)
        tx.end_console_sessions(user.unique_id)  # as DeactivateMFADevice: the lost device's sessions
    release(rt, user.unique_id)
    rt.changed()
    return removed
