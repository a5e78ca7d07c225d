"""`rolehop accounts create-standalone NAME [--email EMAIL]`, run as its own process beside a live
server on the same store: the account it makes belongs to no organization, and the root key it
prints (once) works against the server at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from rolehop.cli.main import main
from support import FakeClock, LiveServer


@pytest.fixture
def live(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "data", clock)
    yield server
    server.stop()


def rolehop(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLEHOP_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "rolehop", "accounts", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_create_standalone_prints_a_root_key_that_works_at_once(live: LiveServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = rolehop(data, "create-standalone", "Sandbox", "--email", "sandbox@example.com")
    assert done.returncode == 0, done.stderr
    account_id = re.search(r"Created account (\d{12}) \(Sandbox, sandbox@example.com\)", done.stdout)
    key_id = re.search(r"aws_access_key_id = (AKIA[A-Z2-7]{16})", done.stdout)
    secret = re.search(r"aws_secret_access_key = (\S{40})\n", done.stdout)
    assert account_id and key_id and secret, done.stdout
    creds = {"AccessKeyId": key_id[1], "SecretAccessKey": secret[1]}

    identity = live.client_for("sts", creds).get_caller_identity()
    assert identity["Account"] == account_id[1] != live.account_id
    assert identity["Arn"] == f"arn:aws:iam::{account_id[1]}:root"
    orgs = live.client_for("organizations", creds)
    with pytest.raises(ClientError) as exc:
        orgs.describe_organization()
    assert exc.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"

    # the management account invites it; it accepts with the key the command printed
    management = live.organizations()
    handshake = management.invite_account_to_organization(
        Target={"Type": "EMAIL", "Id": "sandbox@example.com"}
    )["Handshake"]
    assert orgs.accept_handshake(HandshakeId=handshake["Id"])["Handshake"]["State"] == "ACCEPTED"
    joined = management.describe_account(AccountId=account_id[1])["Account"]
    assert (joined["Name"], joined["JoinedMethod"]) == ("Sandbox", "INVITED")

    # the secret is shown once: nothing in the store or a second run shows it again
    assert secret[1].encode() not in b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    taken = rolehop(data, "create-standalone", "Other", "--email", "SANDBOX@example.com")
    assert taken.returncode == 1 and "already exists" in taken.stderr
    assert secret[1] not in taken.stdout + taken.stderr


def test_create_standalone_refuses_what_aws_refuses(tmp_path: Path) -> None:
    data = tmp_path / "data"

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, ["accounts", "create-standalone", *args, "--data-dir", str(data)])

    too_long = run("x" * 51)
    assert too_long.exit_code == 1 and "1 to 50 printable ASCII" in too_long.output
    bad_email = run("Name", "--email", "no-at-sign.example.com")
    assert bad_email.exit_code == 1 and "not an email address" in bad_email.output
    assert not data.exists()  # refused before any store was opened
    default = run("Plain")
    assert default.exit_code == 0, default.output
    assert re.search(r"Created account (\d{12}) \(Plain, \1@example.invalid\)", default.output), (
        default.output
    )
