"""`rolehop configure` writes the main profile and one profile per assumable role, which the AWS CLI
(a real process, its own botocore) and boto3 then use unchanged; re-running updates in place."""

from __future__ import annotations

import configparser
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import (
    AK,
    ALICE_PROFILES,
    DEVELOP,
    PRODUCTION,
    READONLY,
    STAGING,
    Person,
    aws,
    configure,
    invoke,
    one_line_error,
    process_env,
    role_arn,
    run,
    run_in_terminal,
)

from support import FakeClock, LiveServer


def read(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser


def test_configure_writes_the_main_profile_and_a_profile_per_role(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = configure(alice, org, clock, monkeypatch)
    assert (
        "production-admin" in result.stdout
        and "Profile rolehop: arn:aws:iam::777764040422:user/alice" in result.stdout
    )
    config = read(home / ".aws" / "config")
    assert dict(config["profile rolehop"]) == {
        "region": "us-east-1",
        "endpoint_url": org.url,
        "mfa_serial": alice.device.serial,
    }
    role_sections = {s for s in config.sections() if s != "profile rolehop"}
    assert role_sections == {f"profile {p}" for p in ALICE_PROFILES}
    for profile, account in ALICE_PROFILES.items():
        assert dict(config[f"profile {profile}"]) == {
            "role_arn": role_arn(account),
            "source_profile": "rolehop",
            "role_session_name": "alice",
            "region": "us-east-1",
            "endpoint_url": org.url,
            "mfa_serial": alice.device.serial,
        }
    credentials = read(home / ".aws" / "credentials")
    assert dict(credentials["rolehop"]) == {
        "aws_access_key_id": alice.key_id,
        "aws_secret_access_key": alice.secret,
    }
    assert stat.S_IMODE((home / ".aws" / "credentials").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".aws").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / ".rolehop").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / ".rolehop" / "profiles.json").stat().st_mode) == 0o600
    assert alice.secret not in result.output


def test_developers_get_profiles_for_their_roles_only(
    org: LiveServer, bob: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(bob, org, clock, monkeypatch, "--profile", "ak")
    config = read(home / ".aws" / "config")
    assert set(config.sections()) == {"profile ak", "profile develop-readonly", "profile staging-readonly"}
    assert config["profile staging-readonly"]["role_arn"] == role_arn(STAGING, READONLY)
    assert config["profile develop-readonly"]["source_profile"] == "ak"


def test_rerunning_updates_in_place_and_never_clobbers_other_profiles(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_dir = home / ".aws"
    aws_dir.mkdir()
    original = (
        "# my settings, keep them\n"
        "[default]\nregion = eu-west-1\noutput = json\n\n"
        "[profile personal]\nregion = eu-central-1\ns3 =\n  max_concurrent_requests = 20\n\n"
        "[profile staging-admin]\n# hand-written by the user\nregion = eu-west-3\n"
    )
    (aws_dir / "config").write_text(original)
    (aws_dir / "credentials").write_text(
        "[personal]\naws_access_key_id = AKIAPERSONAL\naws_secret_access_key = x\n"
    )
    first = configure(alice, org, clock, monkeypatch)
    assert "left profile 'staging-admin' alone: rolehop did not write it" in first.stderr
    text = (aws_dir / "config").read_text()
    assert text.startswith(original)  # every byte of the user's file is still there, in order
    config = read(aws_dir / "config")
    assert "role_arn" not in config["profile staging-admin"]
    assert config["profile personal"]["s3"].split() == ["max_concurrent_requests", "=", "20"]
    # the user adds a setting to a rolehop profile; the server moves; configure again
    (aws_dir / "config").write_text(
        text.replace("[profile production-admin]\n", "[profile production-admin]\ncli_pager =\n")
    )
    second = invoke(["configure", "--endpoint", org.url.replace("127.0.0.1", "localhost")], clock=clock)
    assert second.exit_code == 0, second.output
    config = read(aws_dir / "config")
    assert config["profile production-admin"]["endpoint_url"] == org.url.replace("127.0.0.1", "localhost")
    assert config["profile production-admin"]["cli_pager"] == ""
    assert config["default"]["region"] == "eu-west-1"
    assert read(aws_dir / "credentials")["personal"]["aws_access_key_id"] == "AKIAPERSONAL"
    assert (aws_dir / "config").read_text().count("[profile production-admin]") == 1
    # roles alice may no longer assume lose their profiles; the user's own stay
    org.client("iam").remove_user_from_group(GroupName="admins", UserName="alice")
    third = invoke(["configure"], clock=clock)
    assert third.exit_code == 0, third.output
    config = read(aws_dir / "config")
    assert set(config.sections()) == {
        "default",
        "profile personal",
        "profile staging-admin",
        "profile rolehop",
    }
    assert "Removed profiles of roles you may no longer assume" in third.stdout


def test_keys_are_read_from_stdin_without_a_terminal(org: LiveServer, alice: Person, home: Path) -> None:
    done = run(
        home, "configure", "--endpoint", org.url, "--user", "alice", stdin=f"{alice.key_id}\n{alice.secret}\n"
    )
    assert done.returncode == 0, done.stderr
    assert read(home / ".aws" / "credentials")["rolehop"]["aws_access_key_id"] == alice.key_id
    assert alice.secret not in done.stdout + done.stderr


def test_configure_errors_are_one_line_with_what_to_do(
    org: LiveServer, alice: Person, bob: Person, home: Path
) -> None:
    keys = f"{bob.key_id}\n{bob.secret}\n"
    wrong_user = run(home, "configure", "--endpoint", org.url, "--user", "alice", stdin=keys)
    assert wrong_user.returncode == 1
    assert one_line_error(wrong_user) == (
        f"rolehop: the access key belongs to arn:aws:iam::{AK}:user/bob, not to user alice; "
        "use alice's own access key"
    )
    bad_secret = run(
        home, "configure", "--endpoint", org.url, "--user", "alice", stdin=f"{alice.key_id}\nnope\n"
    )
    assert "the secret access key does not match key" in one_line_error(bad_secret)
    unreachable = run(home, "configure", "--endpoint", "http://127.0.0.1:9", "--user", "alice", stdin=keys)
    line = one_line_error(unreachable)
    assert (
        line.startswith("rolehop: cannot reach rolehop at http://127.0.0.1:9")
        and "is the server running?" in line
    )
    first_time = run(home, "configure", stdin=keys)
    assert "--endpoint and --user are needed the first time" in one_line_error(first_time)
    assert not (home / ".aws").exists()


def test_the_aws_cli_and_boto3_use_the_written_profiles_unchanged(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    # the AWS CLI assumes the role itself (AssumeRole with SerialNumber and TokenCode), prompting on stdin
    cli = aws(
        home, "sts", "get-caller-identity", "--profile", "production-admin", stdin=alice.device.code() + "\n"
    )
    assert cli.returncode == 0, cli.stderr
    assert "Enter MFA code for " + alice.device.serial in cli.stderr
    identity = json.loads(cli.stdout)
    assert identity["Arn"] == f"arn:aws:sts::{PRODUCTION}:assumed-role/ak-main-account-admin/alice"
    # boto3 in its own process: the same profiles, its own prompt
    script = (
        "import boto3; s = boto3.Session(profile_name='develop-admin');"
        "print(s.client('sts').get_caller_identity()['Arn']);"
        "print(len(s.client('iam').list_roles()['Roles']) > 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=alice.device.code() + "\n",
        capture_output=True,
        text=True,
        env=process_env(home),
        timeout=120,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"arn:aws:sts::{DEVELOP}:assumed-role/ak-main-account-admin/alice", "True"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_keys_are_asked_on_the_terminal_and_the_secret_is_not_echoed(
    org: LiveServer, alice: Person, home: Path
) -> None:
    answers = {"Access key ID of alice:": alice.key_id, "Secret access key of alice:": alice.secret}
    done = run_in_terminal(home, "configure", "--endpoint", org.url, "--user", "alice", answers=answers)
    assert done.returncode == 0, done.stderr + done.terminal
    assert alice.key_id in done.terminal and alice.secret not in done.terminal
    assert read(home / ".aws" / "credentials")["rolehop"]["aws_secret_access_key"] == alice.secret


def test_a_user_without_roles_or_device_is_told_so(
    org: LiveServer, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = org.client("iam")
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    result = invoke(["configure", "--endpoint", org.url, "--user", "carol"], clock=clock)
    assert result.exit_code == 0, result.output
    assert "cannot list your MFA devices (AccessDenied); pass --mfa-serial ARN" in result.stderr
    assert "You may not assume any role yet." in result.stdout
    assert read(home / ".aws" / "config").sections() == ["profile rolehop"]
    assert "mfa_serial" not in read(home / ".aws" / "config")["profile rolehop"]
    assert "You may not assume any role (profile rolehop)." in invoke(["roles"], clock=clock).stdout
    login = invoke(["login"], clock=clock)
    assert "profile rolehop has no mfa_serial; set up an MFA device" in one_line_error(login)


def test_a_symlinked_config_stays_a_symlink(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotfiles = home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "aws-config").write_text("[profile personal]\nregion = eu-west-1\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "config").symlink_to(dotfiles / "aws-config")
    configure(alice, org, clock, monkeypatch)
    assert (home / ".aws" / "config").is_symlink()
    assert "[profile production-admin]" in (dotfiles / "aws-config").read_text()
