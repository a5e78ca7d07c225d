"""`rolehop assume`: one MFA prompt per MFA session (GetSessionToken once), then AssumeRole for any
role with that session; exports, --exec and credential_process JSON."""

from __future__ import annotations

import json
import shlex
import stat
import sys
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, CredentialRetrievalError
from cli_support import (
    AK,
    DEVELOP,
    PRODUCTION,
    STAGING,
    Calls,
    Person,
    Prompts,
    aws,
    codes_of,
    configure,
    invoke,
    never,
    one_line_error,
    run,
    run_in_terminal,
)

from support import FakeClock, LiveServer


def exports(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0]
    return found


def identity(org: LiveServer, env: dict[str, str]) -> str:
    creds = {
        "AccessKeyId": env["AWS_ACCESS_KEY_ID"],
        "SecretAccessKey": env["AWS_SECRET_ACCESS_KEY"],
        "SessionToken": env["AWS_SESSION_TOKEN"],
    }
    return str(org.client_for("sts", creds).get_caller_identity()["Arn"])


def assumed(account: str, role: str = "ak-main-account-admin") -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role}/alice"


def test_one_mfa_prompt_for_three_roles(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    prompts = codes_of(alice.device)
    for profile, account in [
        ("production-admin", PRODUCTION),
        ("staging-admin", STAGING),
        ("develop-admin", DEVELOP),
    ]:
        result = invoke(["assume", profile], clock=clock, prompts=prompts)
        assert result.exit_code == 0, result.output
        env = exports(result.stdout)
        assert env["AWS_ENDPOINT_URL"] == org.url and env["AWS_REGION"] == "us-east-1"
        assert env["ROLEHOP_PROFILE"] == profile
        assert identity(org, env) == assumed(account)
        assert "unset AWS_PROFILE" in result.stdout
    assert prompts.asked == [f"Enter MFA code for {alice.device.serial}: "]
    assert calls.actions["GetSessionToken"] == 1 and calls.actions["AssumeRole"] == 3
    # the role credentials are cached: asking again costs nothing
    again = invoke(["assume", "production-admin"], clock=clock)
    assert (
        exports(again.stdout)["AWS_ACCESS_KEY_ID"]
        == exports(invoke(["assume", "production-admin"], clock=clock).stdout)["AWS_ACCESS_KEY_ID"]
    )
    assert calls.actions["AssumeRole"] == 3
    # before the role session ends it is renewed with the MFA session, silently
    clock.advance(3600 - 600)
    renewed = invoke(["assume", "production-admin"], clock=clock)
    assert identity(org, exports(renewed.stdout)) == assumed(PRODUCTION)
    assert calls.actions["AssumeRole"] == 4 and calls.actions["GetSessionToken"] == 1
    # twelve hours on, the MFA session is over: one new prompt
    clock.advance(12 * 3600)
    later = invoke(["assume", "staging-admin"], clock=clock, prompts=prompts)
    assert later.exit_code == 0, later.output
    assert len(prompts.asked) == 2 and calls.actions["GetSessionToken"] == 2


def test_real_processes_share_the_mfa_session(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    first = run(home, "assume", "production-admin", stdin=alice.device.code() + "\n")
    assert first.returncode == 0, first.stderr
    assert f"Enter MFA code for {alice.device.serial}: " in first.stderr
    for profile, account in [("staging-admin", STAGING), ("ak-admin", AK)]:
        done = run(home, "assume", profile)  # nothing on stdin: a prompt would fail
        assert done.returncode == 0, done.stderr
        assert "Enter MFA code" not in done.stderr
        assert identity(org, exports(done.stdout)) == assumed(account)
    assert calls.actions["GetSessionToken"] == 1
    cache = home / ".rolehop" / "cache"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    files = sorted(cache.glob("*.json"))
    assert len(files) == 4 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_credentials_are_not_printed_on_a_terminal_unless_asked(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    shown = invoke(["assume", "production-admin"], clock=clock, prompts=codes_of(alice.device), terminal=True)
    assert shown.exit_code == 0 and shown.stdout == ""
    assert 'eval "$(rolehop assume production-admin)"' in shown.stderr
    asked = invoke(["assume", "production-admin", "--print"], clock=clock, terminal=True)
    assert "AWS_SECRET_ACCESS_KEY" in asked.stdout


def test_exec_runs_the_command_with_the_credentials(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    script = (
        "import os, sys, boto3;"
        "print(boto3.client('sts').get_caller_identity()['Arn']);"
        "print(os.environ['AWS_ENDPOINT_URL'], os.environ['ROLEHOP_PROFILE'], 'AWS_PROFILE' in os.environ);"
        "sys.exit(7)"
    )
    done = run(
        home,
        "assume",
        "staging-admin",
        "--exec",
        "--",
        sys.executable,
        "-c",
        script,
        stdin=alice.device.code() + "\n",
        AWS_PROFILE="rolehop",
    )
    assert done.returncode == 7, done.stderr  # the command's exit status
    assert done.stdout.splitlines() == [assumed(STAGING), f"{org.url} staging-admin False"]
    missing = run(home, "assume", "staging-admin", "--exec", "--", "no-such-command-anywhere")
    assert missing.returncode == 127
    assert one_line_error(missing).startswith("rolehop: cannot run 'no-such-command-anywhere'")


def test_credential_process_under_botocore(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    command = shlex.join([sys.executable, "-m", "rolehop", "assume", "production-admin", "--json"])
    with open(home / ".aws" / "config", "a") as f:
        f.write(
            f"\n[profile prod]\ncredential_process = {command}\n"
            f"region = us-east-1\nendpoint_url = {org.url}\n"
        )
    # no MFA session yet: the process must not prompt (botocore captures its stdout and stderr)
    with pytest.raises(CredentialRetrievalError) as exc:
        boto3.Session(profile_name="prod").client("sts").get_caller_identity()
    message = str(exc.value)
    assert "the MFA session of profile rolehop has not been started" in message
    assert (
        "run 'rolehop login --profile rolehop' or 'rolehop assume production-admin' in a terminal" in message
    )
    assert calls.actions["GetSessionToken"] == 0
    # one code in a terminal, then every tool gets credentials without asking
    login = run(home, "login", stdin=alice.device.code() + "\n")
    assert login.returncode == 0, login.stderr
    assert "MFA session of profile rolehop started" in login.stderr
    sts = boto3.Session(profile_name="prod").client("sts")
    assert sts.get_caller_identity()["Arn"] == assumed(PRODUCTION)
    printed = run(home, "assume", "production-admin", "--json")
    payload = json.loads(printed.stdout)
    assert payload["Version"] == 1 and payload["Expiration"].endswith("Z")
    assert set(payload) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert calls.actions["GetSessionToken"] == 1


def test_json_never_prompts_when_stdout_is_captured(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    prompts = codes_of(alice.device)
    assert (
        invoke(["assume", "develop-admin", "--json"], clock=clock, prompts=prompts, terminal=True).exit_code
        == 0
    )
    assert len(prompts.asked) == 1  # a person typing it in a terminal may be asked
    clock.advance(13 * 3600)
    expired = invoke(["assume", "develop-admin", "--json"], clock=clock, prompts=never())
    assert expired.exit_code == 1 and expired.stdout == ""
    assert one_line_error(expired) == (
        "rolehop: the MFA session of profile rolehop has expired and this command may not ask for a code; "
        "run 'rolehop login --profile rolehop' or 'rolehop assume develop-admin' in a terminal, "
        "then try again"
    )


def test_wrong_code_and_refused_role_are_one_clear_line(
    org: LiveServer, alice: Person, bob: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(bob, org, clock, monkeypatch)
    wrong = invoke(["assume", "develop-readonly"], clock=clock, prompts=Prompts(lambda p: "123456"))
    assert wrong.exit_code == 1
    assert one_line_error(wrong) == (
        f"rolehop: wrong MFA code for {bob.device.serial}; wait for your authenticator's next code "
        "(a code works once) and run the command again"
    )
    assert wrong.stderr.count("wrong MFA code") == 3  # asked three times on a terminal
    typo = invoke(["assume", "develop-readonly"], clock=clock, prompts=Prompts(lambda p: None))
    assert "no MFA code was given" in one_line_error(typo)
    # a hand-written profile for a role bob may not assume: the server's reason, and where to look
    with open(home / ".aws" / "config", "a") as f:
        f.write(
            f"\n[profile prod]\nrole_arn = arn:aws:iam::{PRODUCTION}:role/ak-main-account-admin\n"
            "source_profile = rolehop\n"
        )
    refused = invoke(["assume", "prod"], clock=clock, prompts=codes_of(bob.device))
    assert refused.exit_code == 1
    line = one_line_error(refused)
    assert line.startswith(
        f"rolehop: you may not assume arn:aws:iam::{PRODUCTION}:role/ak-main-account-admin (profile prod): "
    )
    assert line.endswith("; 'rolehop roles' lists the roles you may assume")
    unknown = invoke(["assume", "production-adm"], clock=clock)
    assert "no profile named 'production-adm'" in one_line_error(unknown)


def test_assume_the_main_profile_gives_the_mfa_session(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    result = invoke(["assume", "rolehop"], clock=clock, prompts=codes_of(alice.device))
    env = exports(result.stdout)
    assert identity(org, env) == f"arn:aws:iam::{AK}:user/alice"
    # an MFA session may manage alice's keys, which the self-management policy denies without MFA
    creds = {
        "AccessKeyId": env["AWS_ACCESS_KEY_ID"],
        "SecretAccessKey": env["AWS_SECRET_ACCESS_KEY"],
        "SessionToken": env["AWS_SESSION_TOKEN"],
    }
    org.client_for("iam", creds).get_access_key_last_used(AccessKeyId=alice.key_id)
    with pytest.raises(ClientError):
        org.client_for(
            "iam", {"AccessKeyId": alice.key_id, "SecretAccessKey": alice.secret}
        ).get_access_key_last_used(AccessKeyId=alice.key_id)


def test_credential_process_profiles_give_the_aws_cli_one_prompt_for_all_roles(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch, "--credential-process")
    config = (home / ".aws" / "config").read_text()
    assert "role_arn" not in config
    assert (
        f"credential_process = {shlex.join([sys.executable, '-m', 'rolehop'])} assume staging-admin --json"
        in config
    )
    login = run(home, "login", stdin=alice.device.code() + "\n")
    assert login.returncode == 0, login.stderr
    for profile, account in [("production-admin", PRODUCTION), ("staging-admin", STAGING), ("ak-admin", AK)]:
        done = aws(home, "sts", "get-caller-identity", "--profile", profile)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["Arn"] == assumed(account)
    assert calls.actions["GetSessionToken"] == 1
    # the same profiles work with rolehop assume, which finds their roles in its record
    exported = invoke(["assume", "develop-admin"], clock=clock)
    assert identity(org, exports(exported.stdout)) == assumed(DEVELOP)


def test_a_hand_written_role_profile_works_without_configure(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock
) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {alice.key_id}\naws_secret_access_key = {alice.secret}\n"
    )
    (home / ".aws" / "config").write_text(
        f"[profile prod]\nrole_arn = arn:aws:iam::{PRODUCTION}:role/ak-main-account-admin\n"
        f"source_profile = default\nmfa_serial = {alice.device.serial}\nendpoint_url = {org.url}\n"
        "role_session_name = alice\n"
    )
    result = invoke(["assume", "prod", "--duration", "900"], clock=clock, prompts=codes_of(alice.device))
    assert result.exit_code == 0, result.output
    env = exports(result.stdout)
    assert identity(org, env) == assumed(PRODUCTION)
    assert env["AWS_ENDPOINT_URL"] == org.url
    expires = datetime.fromisoformat(env["AWS_CREDENTIAL_EXPIRATION"].replace("Z", "+00:00"))
    assert expires - clock.now == timedelta(seconds=900)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_the_prompt_goes_to_the_terminal_and_credential_process_never_uses_it(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    # eval "$(rolehop assume production-admin)": stdout is captured, the code is typed on the terminal
    typed = run_in_terminal(home, "assume", "production-admin", answers={"mfa/alice:": alice.device.code()})
    assert typed.returncode == 0, typed.stderr
    assert f"Enter MFA code for {alice.device.serial}: " in typed.terminal
    assert identity(org, exports(typed.stdout)) == assumed(PRODUCTION)
    # credential_process started from that terminal: it must not prompt there, only explain
    assert invoke(["logout"], clock=clock).exit_code == 0
    quiet = run_in_terminal(home, "assume", "staging-admin", "--json")
    assert quiet.returncode == 1 and quiet.stdout == ""
    assert "Enter MFA code" not in quiet.terminal
    assert "may not ask for a code; run 'rolehop login --profile rolehop'" in quiet.stderr
    assert calls.actions["GetSessionToken"] == 1


def test_a_session_the_server_no_longer_accepts_is_replaced(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    prompts = codes_of(alice.device)
    assert invoke(["assume", "production-admin"], clock=clock, prompts=prompts).exit_code == 0
    # the server's key ring changed (or it was reset): the cached MFA session no longer opens
    (cached,) = (home / ".rolehop" / "cache").glob("mfa-*.json")
    entry = json.loads(cached.read_text())
    token = entry["Credentials"]["SessionToken"]
    entry["Credentials"]["SessionToken"] = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    cached.write_text(json.dumps(entry))
    renewed = invoke(["assume", "staging-admin"], clock=clock, prompts=prompts)
    assert renewed.exit_code == 0, renewed.output
    assert identity(org, exports(renewed.stdout)) == assumed(STAGING)
    assert len(prompts.asked) == 2 and calls.actions["GetSessionToken"] == 2
    # codes that are not six digits are not sent to the server at all
    invoke(["logout"], clock=clock)
    typos = Prompts(lambda prompt: "12 34")
    bad = invoke(["assume", "staging-admin"], clock=clock, prompts=typos)
    assert "no valid MFA code was given" in one_line_error(bad) and len(typos.asked) == 3
    assert calls.actions["GetSessionToken"] == 2
