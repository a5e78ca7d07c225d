"""MFA in tests: an authenticator app of our own (RFC 6238 written out here, independent of
rolehop.core.totp), a QR decoder (zxing-cpp), and enrolment through the real API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from PIL import Image

from support import FakeClock


def totp(secret_b32: str, at: datetime, steps: int = 0) -> str:
    """The 6-digit SHA-1 TOTP of RFC 6238 for time `at`, `steps` periods later."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int(at.timestamp()) // 30 + steps
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def decode_qr(png: bytes) -> str:
    """What a phone's camera reads from the QR code PNG."""
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    # a phone's authenticator looks for QR codes only; zxing's other readers rarely see a spurious
    # Codabar in a QR code's modules (about one image in 5,000)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


@dataclass
class Device:
    serial: str
    secret: str
    clock: FakeClock

    def code(self) -> str:
        """The code of the next time step: moves the clock on 30 s, as a user waits for a fresh code
        (a device accepts each step once)."""
        self.clock.advance(30)
        return totp(self.secret, self.clock.now)


def create_device(iam: Any, name: str, path: str = "/") -> tuple[str, str, str]:
    """CreateVirtualMFADevice; returns (serial, secret read from the QR code, otpauth URI)."""
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path=path)["VirtualMFADevice"]
    uri = decode_qr(created["QRCodePNG"])
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    assert secret == created["Base32StringSeed"].decode()
    return created["SerialNumber"], secret, uri


def enroll(iam: Any, user: str, clock: FakeClock) -> Device:
    """A user's virtual MFA device, enrolled as the guide says: scan the QR code, type two successive
    codes. `iam` may be the user's own client (the self-management policy allows it) or an admin's."""
    serial, secret, _uri = create_device(iam, user)
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=serial,
        AuthenticationCode1=totp(secret, clock.now, -1),
        AuthenticationCode2=totp(secret, clock.now),
    )
    return Device(serial, secret, clock)
