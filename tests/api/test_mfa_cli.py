"""`rolehop mfa enroll` (a person, through the API, with their own keys) and `rolehop mfa reset USER`
(an administrator, on the store), run as subprocesses against the example organization."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError
from mfa_support import decode_qr, enroll, totp

from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "aster-key.yaml"
AK = "777764040422"


def rolehop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rolehop", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=120,
        start_new_session=True,
    )


@pytest.fixture
def org(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    env = dict(os.environ, ROLEHOP_ROOT_ACCESS_KEY_ID=ROOT_KEY, ROLEHOP_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET)
    applied = rolehop("apply", str(EXAMPLE), "--data-dir", str(tmp_path / "data"), env=env)
    assert applied.returncode == 0, applied.stderr
    live = LiveServer(tmp_path / "data", clock, account_id=AK)
    yield live
    live.stop()


def aws_env(org: LiveServer, keys: dict[str, str], home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": keys["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
        "AWS_ENDPOINT_URL": org.url,
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
    }


def test_enroll_shows_the_qr_code_and_takes_two_successive_codes(org: LiveServer, tmp_path: Path) -> None:
    keys = org.client("iam").create_access_key(UserName="alice")["AccessKey"]
    png = tmp_path / "alice.png"
    # no controlling terminal; the codes are typed on stdin once the secret is shown
    proc = subprocess.Popen(
        [sys.executable, "-m", "rolehop", "mfa", "enroll", "--png", str(png)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=aws_env(org, keys, tmp_path),
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    shown = []
    while True:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        shown.append(line)
        if line.startswith("Or type the secret key by hand: "):
            secret = line.rsplit(" ", 1)[1].strip()
            break
    now = org.clock.now
    # a first try with codes that are not successive, then the right ones
    out, err = proc.communicate(
        "000000\n000000\n" + f"{totp(secret, now, -1)}\n{totp(secret, now)}\n", timeout=120
    )
    assert proc.returncode == 0, err
    assert "Those are not two successive codes" in err
    terminal = "".join(shown)
    assert "Scan this QR code" in terminal and "█" in terminal  # the QR code, drawn in the terminal
    serial = f"arn:aws:iam::{AK}:mfa/alice"
    assert "MFA is enabled for alice." in out and f"mfa_serial = {serial}" in out
    uri = decode_qr(png.read_bytes())
    assert parse_qs(urlsplit(uri).query)["secret"] == [secret]
    assert png.stat().st_mode & 0o077 == 0
    [device] = org.client("iam").list_mfa_devices(UserName="alice")["MFADevices"]
    assert device["SerialNumber"] == serial
    org.clock.advance(30)
    org.client_for("sts", keys).get_session_token(SerialNumber=serial, TokenCode=totp(secret, org.clock.now))


def test_enroll_replaces_an_unfinished_enrolment_but_not_a_device(org: LiveServer, tmp_path: Path) -> None:
    keys = org.client("iam").create_access_key(UserName="bob")["AccessKey"]
    bob = org.client_for("iam", keys)
    bob.create_virtual_mfa_device(VirtualMFADeviceName="bob")  # abandoned half-way
    run = rolehop("mfa", "enroll", "--png", str(tmp_path / "b.png"), env=aws_env(org, keys, tmp_path))
    assert "Or type the secret key by hand" in run.stdout  # a new device, then no codes on stdin
    assert run.returncode != 0
    # bob may remove the leftover of that run himself before MFA (the MFA-first policy allows it)
    bob.delete_virtual_mfa_device(SerialNumber=f"arn:aws:iam::{AK}:mfa/bob")
    enroll(bob, "bob", org.clock)
    again = rolehop("mfa", "enroll", "--png", str(tmp_path / "c.png"), env=aws_env(org, keys, tmp_path))
    assert again.returncode != 0 and "rolehop mfa reset bob" in again.stderr


def test_enroll_explains_aws_errors(org: LiveServer, tmp_path: Path) -> None:
    keys = {"AccessKeyId": "AKIAUNKNOWNUNKNOWN00", "SecretAccessKey": "x"}
    run = rolehop("mfa", "enroll", env=aws_env(org, keys, tmp_path))
    assert run.returncode != 0 and "InvalidClientTokenId" in run.stderr and "Traceback" not in run.stderr


def test_reset_removes_the_device_and_lifts_throttling(org: LiveServer, tmp_path: Path) -> None:
    iam = org.client("iam")
    keys = iam.create_access_key(UserName="alice")["AccessKey"]
    device = enroll(org.client_for("iam", keys), "alice", org.clock)
    sts = org.client_for("sts", keys)
    for _ in range(6):
        with pytest.raises(ClientError):
            sts.get_session_token(SerialNumber=device.serial, TokenCode="000000")
    reset = rolehop("mfa", "reset", "alice", "--data-dir", str(tmp_path / "data"))
    assert reset.returncode == 0, reset.stderr
    assert f"removed {device.serial}" in reset.stdout
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    # the lost device's codes are worthless now; a new device works at once (no throttle left)
    with pytest.raises(ClientError) as exc:
        sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    fresh = enroll(org.client_for("iam", keys), "alice", org.clock)
    sts.get_session_token(SerialNumber=fresh.serial, TokenCode=fresh.code())
    unknown = rolehop("mfa", "reset", "nobody", "--data-dir", str(tmp_path / "data"))
    assert unknown.returncode != 0 and "NoSuchEntity" in unknown.stderr and "Traceback" not in unknown.stderr
