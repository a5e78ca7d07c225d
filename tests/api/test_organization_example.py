"""The access guide's organization: `rolehop apply`, then cross-account AssumeRole with boto3 and the
AWS CLI, from MFA sessions only (the guide's "set up MFA first")."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from mfa_support import Device, enroll

from rolehop.services.pipeline.denials import explain
from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "aster-key.yaml"
AK, PRODUCTION, DEVELOP, STAGING = "777764040422", "380735047240", "228923425684", "464677946080"
ROLE = "ak-main-account-admin"


def rolehop(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ROLEHOP_ROOT_ACCESS_KEY_ID=ROOT_KEY, ROLEHOP_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET)
    return subprocess.run(
        [sys.executable, "-m", "rolehop", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def org(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    data = tmp_path / "data"
    first = rolehop("apply", str(EXAMPLE), data_dir=data)
    assert first.returncode == 0, first.stderr
    live = LiveServer(data, clock, account_id=AK)
    yield live
    live.stop()


def user_keys(org: LiveServer, name: str) -> dict[str, str]:
    return org.client("iam").create_access_key(UserName=name)["AccessKey"]


def enrolled(org: LiveServer, name: str) -> tuple[dict[str, str], Device]:
    """A person of the example who followed the guide: enrolled a virtual MFA device themselves,
    with their own keys (the MFA-first policy allows exactly that)."""
    keys = user_keys(org, name)
    return keys, enroll(org.client_for("iam", keys), name, org.clock)


def mfa_sts(org: LiveServer, name: str) -> Any:
    """An STS client on `name`'s MFA session (GetSessionToken with a code): the jumping-off point."""
    keys, device = enrolled(org, name)
    creds = org.client_for("sts", keys).get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    return org.client_for("sts", creds["Credentials"])


def role_arn(account: str, role: str = ROLE) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


def test_apply_is_idempotent_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = rolehop("apply", str(EXAMPLE), data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "  + account production (380735047240)" in first.stdout
    second = rolehop("apply", str(EXAMPLE), data_dir=data)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("No changes")


def test_invalid_file_names_the_place_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = tmp_path / "bad.yaml"
    text = EXAMPLE.read_text().replace("groups: [admins],", "groups: [admins, nosuchgroup],")
    assert text != EXAMPLE.read_text()
    bad.write_text(text)
    result = rolehop("apply", str(bad), data_dir=data)
    assert result.returncode != 0
    assert "users[0].groups[1]: no group named 'nosuchgroup'" in result.stderr
    assert "Traceback" not in result.stderr
    fixed = rolehop("apply", str(EXAMPLE), data_dir=data)
    assert "  + account production" in fixed.stdout  # the failed apply left nothing behind


def test_organizations_api(org: LiveServer) -> None:
    orgs = org.client("organizations")
    described = orgs.describe_organization()["Organization"]
    assert described["MasterAccountId"] == AK and described["Id"].startswith("o-")
    ids = {a["Id"]: a["Name"] for a in orgs.list_accounts()["Accounts"]}
    assert ids == {AK: "AK", PRODUCTION: "production", DEVELOP: "develop", STAGING: "staging"}
    assert orgs.list_roots()["Roots"][0]["Id"].startswith("r-")
    assert orgs.describe_account(AccountId=PRODUCTION)["Account"]["Name"] == "production"
    with pytest.raises(ClientError) as exc:
        orgs.describe_account(AccountId="111111111111")
    assert exc.value.response["Error"]["Code"] == "AccountNotFoundException"


def test_create_account_is_asynchronous_and_its_access_role_works(org: LiveServer) -> None:
    orgs = org.client("organizations")
    status = orgs.create_account(Email="sandbox@asterkey.example", AccountName="sandbox")[
        "CreateAccountStatus"
    ]
    assert status["State"] == "IN_PROGRESS"
    done = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED"
    new_account = done["AccountId"]
    again = orgs.create_account(Email="sandbox@asterkey.example", AccountName="dup")["CreateAccountStatus"]
    failed = orgs.describe_create_account_status(CreateAccountRequestId=again["Id"])["CreateAccountStatus"]
    assert failed["State"] == "FAILED" and failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    # a user of the management account with permission assumes OrganizationAccountAccessRole there
    iam = org.client("iam")
    iam.create_user(UserName="operator")
    iam.attach_user_policy(UserName="operator", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    sts = org.client_for("sts", user_keys(org, "operator"))
    creds = sts.assume_role(
        RoleArn=role_arn(new_account, "OrganizationAccountAccessRole"), RoleSessionName="setup"
    )["Credentials"]
    member_iam = org.client_for("iam", creds)
    member_iam.create_user(UserName="inside")
    assert member_iam.get_user(UserName="inside")["User"]["Arn"] == f"arn:aws:iam::{new_account}:user/inside"


def test_admin_assumes_the_role_in_every_account(org: LiveServer) -> None:
    sts = mfa_sts(org, "alice")
    for account in (AK, PRODUCTION, DEVELOP, STAGING):
        result = sts.assume_role(RoleArn=role_arn(account), RoleSessionName="alice")
        assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/{ROLE}/alice"
        session = org.client_for("sts", result["Credentials"])
        ident = session.get_caller_identity()
        assert ident["Account"] == account
        assert ident["Arn"] == f"arn:aws:sts::{account}:assumed-role/{ROLE}/alice"
        assert ident["UserId"].startswith("AROA") and ident["UserId"].endswith(":alice")
        # the role's AdministratorAccess works inside its account
        org.client_for("iam", result["Credentials"]).list_roles()


def test_developer_gets_only_the_narrow_role(org: LiveServer) -> None:
    sts = mfa_sts(org, "bob")
    creds = sts.assume_role(RoleArn=role_arn(DEVELOP, "ak-developer-readonly"), RoleSessionName="bob")[
        "Credentials"
    ]
    iam = org.client_for("iam", creds)
    iam.list_roles()
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="nope")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    for account in (PRODUCTION, STAGING):
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=role_arn(account), RoleSessionName="bob")
        message = exc.value.response["Error"]["Message"]
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
        assert f"User: arn:aws:iam::{AK}:user/bob is not authorized to perform: sts:AssumeRole" in message
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=role_arn(PRODUCTION, "ak-developer-readonly"), RoleSessionName="bob")


def test_user_outside_any_group_is_refused(org: LiveServer) -> None:
    org.client("iam").create_user(UserName="carol")
    sts = org.client_for("sts", user_keys(org, "carol"))
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role_arn(PRODUCTION), RoleSessionName="carol")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def test_role_not_trusting_the_callers_account_is_refused(org: LiveServer) -> None:
    # a role in production trusting only production itself: AK's admins cannot assume it
    sts = mfa_sts(org, "alice")
    creds = sts.assume_role(RoleArn=role_arn(PRODUCTION), RoleSessionName="setup")["Credentials"]
    prod_iam = org.client_for("iam", creds)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": f"arn:aws:iam::{PRODUCTION}:root"},
            }
        ],
    }
    prod_iam.create_role(RoleName="local-only", AssumeRolePolicyDocument=json.dumps(trust))
    iam = org.client("iam")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="any-role",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role_arn(PRODUCTION, "local-only"), RoleSessionName="xx")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def test_duration_and_role_chaining_limits(org: LiveServer) -> None:
    sts = mfa_sts(org, "alice")
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role_arn(PRODUCTION), RoleSessionName="long", DurationSeconds=7200)
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    assert "MaxSessionDuration" in exc.value.response["Error"]["Message"]
    first = sts.assume_role(RoleArn=role_arn(AK), RoleSessionName="hop1")["Credentials"]
    chained = org.client_for("sts", first)
    # the AK admin role may assume others (AdministratorAccess); chaining is capped at one hour
    with pytest.raises(ClientError) as exc:
        chained.assume_role(RoleArn=role_arn(PRODUCTION), RoleSessionName="hop2", DurationSeconds=3601)
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    second = chained.assume_role(RoleArn=role_arn(PRODUCTION), RoleSessionName="hop2")
    assert second["AssumedRoleUser"]["Arn"].endswith(f"{ROLE}/hop2")


def test_session_policy_narrows_the_session(org: LiveServer) -> None:
    sts = mfa_sts(org, "alice")
    narrow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}],
    }
    result = sts.assume_role(
        RoleArn=role_arn(PRODUCTION), RoleSessionName="narrow", Policy=json.dumps(narrow)
    )
    assert 0 < result["PackedPolicySize"] <= 100
    iam = org.client_for("iam", result["Credentials"])
    iam.list_roles()
    with pytest.raises(ClientError) as exc:
        iam.list_users()
    assert (
        "because no session policy allows the iam:ListUsers action" in exc.value.response["Error"]["Message"]
    )


def test_tampered_role_session_token_is_refused(org: LiveServer) -> None:
    creds = mfa_sts(org, "alice").assume_role(RoleArn=role_arn(STAGING), RoleSessionName="tt")["Credentials"]
    token = creds["SessionToken"]
    creds["SessionToken"] = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    with pytest.raises(ClientError) as exc:
        org.client_for("sts", creds).get_caller_identity()
    assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_aws_cli_role_profile(org: LiveServer, tmp_path: Path) -> None:
    """A role profile with mfa_serial: the AWS CLI prompts "Enter MFA code for …" and assumes the role
    with the long-term keys plus the code. It runs without a controlling terminal (a new session),
    so getpass falls back to stdin, where the test types the code."""
    keys, device = enrolled(org, "alice")
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    credentials = configparser.ConfigParser()
    credentials["ak"] = {
        "aws_access_key_id": keys["AccessKeyId"],
        "aws_secret_access_key": keys["SecretAccessKey"],
    }
    with open(home / ".aws" / "credentials", "w") as f:
        credentials.write(f)
    config = configparser.ConfigParser()
    config["profile ak"] = {"region": "us-east-1", "endpoint_url": org.url}
    config["profile production-admin"] = {
        "role_arn": role_arn(PRODUCTION),
        "source_profile": "ak",
        "mfa_serial": device.serial,
        "region": "us-east-1",
        "endpoint_url": org.url,
    }
    with open(home / ".aws" / "config", "w") as f:
        config.write(f)
    env = {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
    }
    aws = [sys.executable, "-m", "awscli"]

    def caller_identity(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*aws, "sts", "get-caller-identity", "--profile", "production-admin", "--output", "json"],
            input=code + "\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            start_new_session=True,
        )

    refused = caller_identity("000000")
    assert f"Enter MFA code for {device.serial}:" in refused.stderr
    assert refused.returncode != 0 and "MultiFactorAuthentication failed" in refused.stderr
    result = caller_identity(device.code())
    assert f"Enter MFA code for {device.serial}:" in result.stderr
    assert result.returncode == 0, result.stderr
    ident = json.loads(result.stdout)
    assert ident["Account"] == PRODUCTION
    assert ident["Arn"].startswith(f"arn:aws:sts::{PRODUCTION}:assumed-role/{ROLE}/")
    # the CLI cached the role's credentials: the next command does not ask again
    again = caller_identity("")
    assert again.returncode == 0 and "Enter MFA code" not in again.stderr


def test_assumable_roles_are_listed_by_the_engine(org: LiveServer) -> None:
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def roles_of(keys: dict[str, str]) -> set[tuple[str, str]]:
        req = AWSRequest("GET", org.url + "/_rolehop/assumable-roles")
        SigV4Auth(Credentials(keys["AccessKeyId"], keys["SecretAccessKey"]), "sts", "us-east-1").add_auth(req)
        with urllib.request.urlopen(urllib.request.Request(req.url, headers=dict(req.headers))) as resp:
            return {(r["AccountId"], r["RoleName"]) for r in json.loads(resp.read())["Roles"]}

    assert roles_of(user_keys(org, "alice")) == {(a, ROLE) for a in (AK, PRODUCTION, DEVELOP, STAGING)}
    assert roles_of(user_keys(org, "bob")) == {
        (DEVELOP, "ak-developer-readonly"),
        (STAGING, "ak-developer-readonly"),
    }


# --- MFA first: the guide's rule, made by SelfManageCredentialsMfaFirst and the trust policies ----

PASSWORD = "Initial-Passw0rd"


def denied(exc: pytest.ExceptionInfo[ClientError]) -> str:
    # Organizations (JSON protocol) names it AccessDeniedException
    assert exc.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException"), (
        exc.value.response
    )
    return str(exc.value.response["Error"]["Message"])


def test_before_mfa_a_person_may_change_their_password_and_enroll_and_nothing_else(org: LiveServer) -> None:
    # the example gives alice an initial password; the test sets one it knows
    org.client("iam").update_login_profile(UserName="alice", Password=PASSWORD, PasswordResetRequired=True)
    keys = user_keys(org, "alice")
    iam = org.client_for("iam", keys)
    # the guide's path: IAM -> Users -> own user -> Security credentials
    assert iam.list_account_aliases()["AccountAliases"] == ["aster-key"]
    iam.get_account_summary()
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"alice", "bob"}
    assert iam.get_user()["User"]["UserName"] == "alice"
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [keys["AccessKeyId"]]
    assert iam.list_mfa_devices()["MFADevices"] == []
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["PasswordResetRequired"] is True
    # changing the password
    iam.change_password(OldPassword=PASSWORD, NewPassword="Changed-Passw0rd")
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["PasswordResetRequired"] is False
    # and nothing else
    forbidden = {
        "own access keys": lambda: iam.create_access_key(),
        "the roles": lambda: iam.list_roles(),
        "another user": lambda: iam.get_user(UserName="bob"),
        "another user's device": lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="bob"),
        "Organizations": lambda: org.client_for("organizations", keys).list_accounts(),
        "a role": lambda: org.client_for("sts", keys).assume_role(
            RoleArn=role_arn(PRODUCTION), RoleSessionName="alice"
        ),
    }
    for what, call in forbidden.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert denied(exc).startswith(f"User: arn:aws:iam::{AK}:user/alice is not authorized"), what
    with pytest.raises(ClientError) as exc:
        iam.create_access_key()
    assert denied(exc).endswith("with an explicit deny in an identity-based policy")
    # a session without MFA is no way round it: GetSessionToken credentials without MFA cannot call IAM
    plain = org.client_for("sts", keys).get_session_token()["Credentials"]
    with pytest.raises(ClientError) as exc:
        org.client_for("iam", plain).create_access_key()
    assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"
    # enrolling, then signing in with MFA, opens what the groups allow
    device = enroll(iam, "alice", org.clock)
    session = org.client_for("sts", keys).get_session_token(
        SerialNumber=device.serial, TokenCode=device.code()
    )
    mfa_iam = org.client_for("iam", session["Credentials"])
    mfa_iam.create_access_key()  # own access keys: allowed once MFA is present
    with pytest.raises(ClientError) as exc:
        mfa_iam.list_roles()  # never granted to admins in AK itself
    assert "because no identity-based policy allows" in denied(exc)
    org.client_for("sts", session["Credentials"]).assume_role(
        RoleArn=role_arn(PRODUCTION), RoleSessionName="alice"
    )


def test_the_trust_policy_requires_mfa(org: LiveServer) -> None:
    """Without the MFA-first policy in the way, the role's own trust policy refuses a session without MFA."""
    iam = org.client("iam")
    iam.create_user(UserName="carol")
    iam.attach_user_policy(UserName="carol", PolicyArn=f"arn:aws:iam::{AK}:policy/AssumeAkMainAccountAdmin")
    keys = user_keys(org, "carol")
    device = enroll(iam, "carol", org.clock)
    sts = org.client_for("sts", keys)
    without = org.client_for("sts", sts.get_session_token()["Credentials"])
    for caller in (sts, without):
        with pytest.raises(ClientError) as exc:
            caller.assume_role(RoleArn=role_arn(PRODUCTION), RoleSessionName="carol")
        # AssumeRole's message never says why (AWS's form); the recorded explanation does
        assert denied(exc).endswith(f"sts:AssumeRole on resource: {role_arn(PRODUCTION)}")
        why = explain(org.app.rt, exc.value.response["ResponseMetadata"]["RequestId"])
        assert why is not None and why["missingAllowIn"] == ["resource"]
    session = sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code())["Credentials"]
    assumed = org.client_for("sts", session).assume_role(
        RoleArn=role_arn(PRODUCTION), RoleSessionName="carol"
    )
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{PRODUCTION}:assumed-role/{ROLE}/carol"
    # a reused code is refused by the trust step too
    code = device.code()
    sts.assume_role(
        RoleArn=role_arn(STAGING), RoleSessionName="carol", SerialNumber=device.serial, TokenCode=code
    )
    with pytest.raises(ClientError) as exc:
        sts.assume_role(
            RoleArn=role_arn(DEVELOP), RoleSessionName="carol", SerialNumber=device.serial, TokenCode=code
        )
    assert "invalid MFA one time pass code" in denied(exc)


def test_long_term_keys_with_a_token_code_pass_the_mfa_first_deny(org: LiveServer) -> None:
    """docs/decisions.md: the MFA given with AssumeRole counts for the whole AssumeRole request, so the
    AWS CLI's mfa_serial profiles (long-term keys + TokenCode) work under BoolIfExists."""
    keys, device = enrolled(org, "alice")
    sts = org.client_for("sts", keys)
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role_arn(PRODUCTION), RoleSessionName="alice")
    assert denied(exc).endswith("with an explicit deny in an identity-based policy")
    result = sts.assume_role(
        RoleArn=role_arn(PRODUCTION),
        RoleSessionName="alice",
        SerialNumber=device.serial,
        TokenCode=device.code(),
    )
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{PRODUCTION}:assumed-role/{ROLE}/alice"
    # the long-term keys themselves stay without MFA: the code was for that one call
    with pytest.raises(ClientError) as exc:
        org.client_for("iam", keys).create_access_key()
    assert denied(exc).endswith("with an explicit deny in an identity-based policy")


def test_apply_sets_initial_passwords_that_must_be_changed(org: LiveServer) -> None:
    profile = org.client("iam").get_login_profile(UserName="alice")["LoginProfile"]
    assert profile["PasswordResetRequired"] is True
