"""`rolehop roles` (the policy engine's answer, as a table), `rolehop whoami` and `rolehop logout`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import (
    AK,
    DEVELOP,
    PRODUCTION,
    STAGING,
    Calls,
    Person,
    codes_of,
    configure,
    invoke,
    one_line_error,
    run,
)

from support import FakeClock, LiveServer


def test_roles_is_a_table_of_what_the_engine_allows(
    org: LiveServer, alice: Person, bob: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    table = invoke(["roles"], clock=clock)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["Profile", "Account", "Account", "ID", "Role", "Max", "session"]
    rows = [line.split() for line in lines[1:] if line.strip()]
    assert rows == [
        ["ak-admin", "AK", AK, "ak-main-account-admin", "1", "h"],
        ["develop-admin", "Development", DEVELOP, "ak-main-account-admin", "1", "h"],
        ["production-admin", "Production", PRODUCTION, "ak-main-account-admin", "1", "h"],
        ["staging-admin", "Staging", STAGING, "ak-main-account-admin", "1", "h"],
    ]
    listed = json.loads(invoke(["roles", "--json"], clock=clock).stdout)["Roles"]
    assert {r["AccountId"] for r in listed} == {AK, DEVELOP, PRODUCTION, STAGING}
    # a role granted after configure shows without a profile until configure runs again
    org.client("iam").add_user_to_group(GroupName="developers", UserName="alice")
    later = invoke(["roles"], clock=clock)
    unconfigured = [line.split() for line in later.stdout.splitlines() if line.startswith("-")]
    assert unconfigured == [
        ["-", "Development", DEVELOP, "ak-developer-readonly", "1", "h"],
        ["-", "Staging", STAGING, "ak-developer-readonly", "1", "h"],
    ]
    assert "Roles without a profile: 'rolehop configure' writes theirs." in later.stdout


def test_whoami_shows_the_user_the_mfa_session_and_the_shell(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    before = invoke(["whoami"], clock=clock)
    assert before.exit_code == 0, before.output
    assert before.stdout.splitlines()[0] == f"arn:aws:iam::{AK}:user/alice"
    assert "no MFA session: the next 'rolehop assume' asks for a code" in before.stdout
    exported = invoke(["assume", "staging-admin"], clock=clock, prompts=codes_of(alice.device)).stdout
    after = invoke(["whoami"], clock=clock)
    assert "MFA       session until" in after.stdout and "(12 h 00 min left)" in after.stdout
    role = invoke(["whoami", "staging-admin"], clock=clock)
    assert role.stdout.splitlines()[0] == f"arn:aws:sts::{STAGING}:assumed-role/ak-main-account-admin/alice"
    assert "Staging" in role.stdout
    # in a shell that ran eval "$(rolehop assume staging-admin)", whoami answers for that shell
    env = {}
    for line in exported.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'")
    shell = run(home, "whoami", **env)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines()[0] == f"arn:aws:sts::{STAGING}:assumed-role/ak-main-account-admin/alice"
    assert "the environment (rolehop assume staging-admin)" in shell.stdout
    assert calls.actions["GetSessionToken"] == 1
    missing = invoke(["whoami", "develop-admin"], clock=clock)
    assert "has no live credentials here; 'rolehop assume develop-admin' gets them" in one_line_error(missing)


def test_logout_drops_the_cached_sessions(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    prompts = codes_of(alice.device)
    invoke(["assume", "production-admin"], clock=clock, prompts=prompts)
    invoke(["assume", "develop-admin"], clock=clock, prompts=prompts)
    out = invoke(["logout"], clock=clock)
    assert out.stdout.startswith("Dropped 3 cached sessions;")
    assert not list((home / ".rolehop" / "cache").glob("*.json"))
    invoke(["assume", "production-admin"], clock=clock, prompts=prompts)
    assert len(prompts.asked) == 2 and calls.actions["GetSessionToken"] == 2
    assert invoke(["logout", "--profile", "other"], clock=clock).stdout.startswith(
        "Dropped 0 cached sessions"
    )
