"""The organization as code: `rolehop plan` (exit 0 / 2 / 1, as terraform plan -detailed-exitcode),
`rolehop apply` (one transaction, --prune), `rolehop export` (export -> apply -> export is the same
bytes), drift made through the API (boto3 on a live server over the same store), unmanaged objects,
and console access with a one-time password. The example is applied once per module; each test
works on a copy of that store."""

from __future__ import annotations

import json
import os
import re
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError
from cli_support import AK, EXAMPLE, PRODUCTION
from click.testing import CliRunner, Result

from rolehop.cli.main import main
from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN_ROLE = "ak-main-account-admin"
ENV = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
CLEAN_ENV = {"ROLEHOP_DATA_DIR": None, "ROLEHOP_DATABASE_URL": None, "NO_COLOR": "1", **ENV}


def rolehop(*args: str) -> Result:
    """The command line in this process (its exit code as the process would exit)."""
    return CliRunner().invoke(main, list(args), env=CLEAN_ENV)


def plan(file: Path, data: Path, *more: str) -> Result:
    return rolehop("plan", str(file), "--data-dir", str(data), *more)


def apply(file: Path, data: Path, *more: str) -> Result:
    done = rolehop("apply", str(file), "--data-dir", str(data), *more)
    assert done.exit_code == 0, done.output
    return done


def export(data: Path) -> str:
    done = rolehop("export", "--data-dir", str(data))
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture(scope="module")
def example_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("org-as-code") / "data"
    first = apply(EXAMPLE, data)
    assert "Applied" in first.stdout
    return data


@pytest.fixture
def store(example_store: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(example_store, data)
    return data


@pytest.fixture
def live(store: Path, clock: FakeClock) -> Iterator[LiveServer]:
    server = LiveServer(store, clock, account_id=AK)
    yield server
    server.stop()


def with_user(tmp_path: Path, user: dict[str, object]) -> Path:
    """The example with one more user (a file of the test's own)."""
    text = EXAMPLE.read_text().replace("\nroles:\n", f"\n  - {json.dumps(user)}\n\nroles:\n", 1)
    assert text != EXAMPLE.read_text()
    path = tmp_path / "org.yaml"
    path.write_text(text)
    return path


def test_plan_exit_codes_and_apply_then_plan_shows_no_change(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    first = plan(EXAMPLE, data)
    assert first.exit_code == 2, first.output
    assert "  + account production (380735047240)\n      ou: workloads/prod\n" in first.stdout
    assert "  + organization policy DenyLeavingTheOrganization (SERVICE_CONTROL_POLICY)" in first.stdout
    assert "  + role ak-developer-readonly in staging" in first.stdout
    assert "Plan: 23 to create, 0 to change, 0 to delete." in first.stdout
    assert plan(EXAMPLE, data).exit_code == 2  # plan wrote nothing
    applied = apply(EXAMPLE, data)
    assert "Applied" in applied.stdout and "One-time" not in applied.stdout  # the file gives the passwords
    again = plan(EXAMPLE, data)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("No changes: the store already matches")
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("ou: workloads/prod}", "ou: workloads/production}"))
    failed = plan(bad, data)
    assert failed.exit_code == 1
    assert "accounts[0].ou: no organizational unit 'workloads/production' in this file" in failed.stderr


def test_usage_errors_exit_1_not_clicks_2(tmp_path: Path) -> None:
    """A real process: Click's own exit code 2 for usage errors must not read as "changes"."""
    for args in (
        ["plan"],
        ["plan", "--no-such-option", str(EXAMPLE)],
        ["plan", str(tmp_path / "missing.yaml")],
    ):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "rolehop"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ,
        )
        assert done.returncode == 1, (args, done.stderr)
        assert "Usage: rolehop plan" in done.stderr and "Traceback" not in done.stderr


def test_export_apply_export_is_byte_identical(store: Path, tmp_path: Path) -> None:
    exported = export(store)
    assert exported.startswith("# The organization as rolehop holds it")
    assert "console_access: true" in exported
    assert "Welcome-to-AK" not in exported and "initial_password" not in exported  # never a secret
    assert "OrganizationAccountAccessRole" not in exported  # as CreateAccount made it: the account's
    assert "  - name: workloads\n    children:\n      - name: nonprod\n      - name: prod\n" in exported
    file = tmp_path / "exported.yaml"
    file.write_text(exported)
    no_change = plan(file, store)
    assert no_change.exit_code == 0, no_change.output
    assert "Unmanaged" not in no_change.stdout
    fresh = tmp_path / "fresh"
    applied = apply(file, fresh)
    # the exported file holds no password: alice and bob get one-time passwords, printed once
    assert re.findall(r"^  user (\w+) in AK: \S{20}$", applied.stdout, re.M) == ["alice", "bob"]
    assert export(fresh) == exported
    assert plan(file, fresh).exit_code == 0
    assert "One-time" not in apply(file, fresh).stdout


def test_drift_through_the_api_shows_in_plan_and_apply_repairs_it(store: Path, live: LiveServer) -> None:
    iam, orgs = live.client("iam"), live.client("organizations")
    iam.attach_role_policy(RoleName=ADMIN_ROLE, PolicyArn=READ_ONLY)
    iam.put_role_policy(
        RoleName=ADMIN_ROLE,
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    iam.update_role(RoleName=ADMIN_ROLE, MaxSessionDuration=7200)
    root = orgs.list_roots()["Roots"][0]["Id"]
    workloads = orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"][0]["Id"]
    ous = {
        o["Name"]: o["Id"]
        for o in orgs.list_organizational_units_for_parent(ParentId=workloads)["OrganizationalUnits"]
    }
    orgs.move_account(AccountId=PRODUCTION, SourceParentId=ous["prod"], DestinationParentId=ous["nonprod"])
    scp = next(
        p["Id"]
        for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
        if p["Name"] == "DenyLeavingTheOrganization"
    )
    content = json.loads(orgs.describe_policy(PolicyId=scp)["Policy"]["Content"])
    content["Statement"][0]["Action"] = "organizations:*"
    orgs.update_policy(PolicyId=scp, Content=json.dumps(content))

    drift = plan(EXAMPLE, store)
    assert drift.exit_code == 2, drift.output
    out = drift.stdout
    assert (
        "  ~ role ak-main-account-admin in AK\n"
        "      max_session_duration: 7200 -> 3600\n"
        f"      policies: - {READ_ONLY}\n"
        "      inline: - extra\n"
    ) in out
    assert "  ~ account production (380735047240)\n      ou: workloads/nonprod -> workloads/prod\n" in out
    assert (
        "  ~ organization policy DenyLeavingTheOrganization (SERVICE_CONTROL_POLICY)\n      content:\n" in out
    )
    assert '        -      "Action": "organizations:*",\n' in out, out
    assert '        +      "Action": "organizations:LeaveOrganization",\n' in out
    assert "Plan: 0 to create, 3 to change, 0 to delete." in out
    assert "ak-main-account-admin in production" not in out  # only what changed

    apply(EXAMPLE, store)
    assert plan(EXAMPLE, store).exit_code == 0
    attached = iam.list_attached_role_policies(RoleName=ADMIN_ROLE)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert iam.list_role_policies(RoleName=ADMIN_ROLE)["PolicyNames"] == []
    assert orgs.list_parents(ChildId=PRODUCTION)["Parents"][0]["Id"] == ous["prod"]
    repaired = json.loads(orgs.describe_policy(PolicyId=scp)["Policy"]["Content"])
    assert repaired["Statement"][0]["Action"] == "organizations:LeaveOrganization"


def test_unmanaged_objects_are_listed_and_deleted_only_by_prune(store: Path, live: LiveServer) -> None:
    iam, orgs = live.client("iam"), live.client("organizations")
    iam.create_user(UserName="mallory")
    iam.create_access_key(UserName="mallory")
    root = orgs.list_roots()["Roots"][0]["Id"]
    orgs.create_organizational_unit(ParentId=root, Name="sandbox")
    orgs.create_policy(
        Name="AdHoc",
        Type="SERVICE_CONTROL_POLICY",
        Description="made by hand",
        Content=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]}
        ),
    )

    listed = plan(EXAMPLE, store)
    assert listed.exit_code == 0, listed.output  # unmanaged is not a change
    assert (
        "Unmanaged: in the store, not in the file (apply --prune deletes them):\n"
        "  ? user mallory in AK\n"
        "  ? organization policy AdHoc (SERVICE_CONTROL_POLICY)\n"
        "  ? organizational unit sandbox\n"
    ) in listed.stdout
    assert "3 unmanaged (apply --prune deletes them)" in listed.stdout
    kept = apply(EXAMPLE, store)
    assert "No changes" in kept.stdout
    assert iam.get_user(UserName="mallory")["User"]["UserName"] == "mallory"

    pruning = plan(EXAMPLE, store, "--prune")
    assert pruning.exit_code == 2
    assert (
        "  - user mallory in AK\n" in pruning.stdout and "  - organizational unit sandbox\n" in pruning.stdout
    )
    assert "Plan: 0 to create, 0 to change, 3 to delete." in pruning.stdout
    pruned = apply(EXAMPLE, store, "--prune")
    assert "Applied" in pruned.stdout
    with pytest.raises(ClientError) as gone:
        iam.get_user(UserName="mallory")
    assert gone.value.response["Error"]["Code"] == "NoSuchEntity"
    assert [
        o["Name"] for o in orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    ] == ["workloads"]
    scps = [p["Name"] for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]]
    assert "AdHoc" not in scps and "DenyLeavingTheOrganization" in scps
    clean = plan(EXAMPLE, store)
    assert clean.exit_code == 0 and "Unmanaged" not in clean.stdout


def sign_in(live: LiveServer, user: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=live.url, follow_redirects=False) as http:
        page = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        form = {
            "csrf_token": token.group(1),
            "account": AK,
            "username": user,
            "password": password,
            "next": "/",
        }
        return http.post("/signin", data=form)


def test_console_access_gets_a_one_time_password_printed_once(
    store: Path, live: LiveServer, tmp_path: Path
) -> None:
    iam = live.client("iam")
    iam.update_account_password_policy(
        MinimumPasswordLength=32,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
    )
    file = with_user(tmp_path, {"name": "carol", "groups": ["developers"], "console_access": True})
    planned = plan(file, store)
    assert planned.exit_code == 2
    assert "  + user carol in AK\n      (a one-time password, printed once by apply" in planned.stdout
    first = apply(file, store)
    found = re.findall(r"^  user carol in AK: (\S+)$", first.stdout, re.M)
    assert len(found) == 1, first.stdout
    password = found[0]
    assert len(password) >= 32  # the account's password policy, every class it asks for
    for chars in (string.ascii_uppercase, string.ascii_lowercase, string.digits):
        assert any(c in chars for c in password)
    assert any(not c.isalnum() for c in password)
    profile = iam.get_login_profile(UserName="carol")["LoginProfile"]
    assert profile["PasswordResetRequired"] is True
    signed_in = sign_in(live, "carol", password)  # the password works, and must be changed first
    assert signed_in.headers["location"].startswith("/signin/password"), signed_in.text

    second = apply(file, store)
    assert password not in second.stdout and "One-time" not in second.stdout
    assert second.stdout.startswith("No changes")
    exported = export(store)
    assert password not in exported
    assert "  - name: carol\n    groups: [developers]\n    console_access: true\n" in exported

    iam.delete_login_profile(UserName="carol")  # drift: the password removed through the API
    drift = plan(file, store)
    assert drift.exit_code == 2
    assert "  ~ user carol in AK\n      console_access: False -> True\n" in drift.stdout


RICH = """
organization:
  feature_set: ALL
  policy_types: [SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY, BACKUP_POLICY]
  service_access: [guardduty.amazonaws.com]
management: {id: "777764040422", name: AK, email: aws-main@asterkey.example}
organizational_units:
  - name: security
accounts:
  - {id: "111122223333", name: audit, email: audit@asterkey.example, ou: security}
organization_policies:
  - name: OnlyOurPrincipals
    type: RESOURCE_CONTROL_POLICY
    targets: [security]
    content:
      Version: "2012-10-17"
      Statement:
        - Effect: Deny
          Principal: "*"
          Action: s3:*
          Resource: "*"
          Condition: {StringNotEqualsIfExists: {aws:PrincipalOrgID: o-example}}
delegated_administrators:
  - {account: audit, service_principal: guardduty.amazonaws.com}
policies:
  - name: AuditRead
    account: audit
    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:Get*", Resource: "*"}]}
roles:
  - name: auditor
    accounts: [audit]
    max_session_duration: 7200
    trust:
      Version: "2012-10-17"
      Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::777764040422:root"}, Action: sts:AssumeRole}]
    policies: [AuditRead]
"""


def test_every_section_round_trips(tmp_path: Path, clock: FakeClock) -> None:
    """Delegated administrators, trusted access, an RCP, a policy type enabled with no policy, and
    IAM objects of a member account: applied, seen through the API, exported the same twice."""
    file = tmp_path / "rich.yaml"
    file.write_text(RICH)
    data = tmp_path / "rich"
    apply(file, data)
    exported = export(data)
    assert (
        "delegated_administrators:\n  - account: audit\n    service_principal: guardduty.amazonaws.com\n"
        in exported
    )
    assert (
        "    account: audit\n" in exported
        and "    accounts: [audit]\n    max_session_duration: 7200\n" in exported
    )
    again = tmp_path / "again"
    (tmp_path / "exported.yaml").write_text(exported)
    apply(tmp_path / "exported.yaml", again)
    assert export(again) == exported
    assert plan(file, again).exit_code == 0
    live = LiveServer(again, clock, account_id=AK)
    try:
        orgs = live.client("organizations")
        delegated = orgs.list_delegated_administrators(ServicePrincipal="guardduty.amazonaws.com")
        assert [d["Id"] for d in delegated["DelegatedAdministrators"]] == ["111122223333"]
        types = {t["Type"] for t in orgs.list_roots()["Roots"][0]["PolicyTypes"]}
        assert types == {"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "BACKUP_POLICY"}
        rcps = orgs.list_policies_for_target(TargetId="111122223333", Filter="RESOURCE_CONTROL_POLICY")
        assert {p["Name"] for p in rcps["Policies"]} == {
            "RCPFullAWSAccess"
        }  # inherited from the OU, not attached
    finally:
        live.stop()
