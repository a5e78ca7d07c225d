"""Console passwords and the account password policy: login profiles, ChangePassword, IAM's policy
checks on every set and change, argon2id at rest, and throttled wrong passwords."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from rolehop.services.iam.login_profiles import sign_in_with_password
from support import FakeClock, LiveServer

GOOD = "Correct-Horse-7"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def user_with_keys(iam, name: str) -> dict[str, str]:
    iam.create_user(UserName=name)
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_login_profile_lifecycle(server: LiveServer, iam, clock: FakeClock) -> None:
    iam.create_user(UserName="alice")
    created = iam.create_login_profile(UserName="alice", Password=GOOD, PasswordResetRequired=True)[
        "LoginProfile"
    ]
    assert created == {"UserName": "alice", "CreateDate": clock.now, "PasswordResetRequired": True}
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName="alice", Password=GOOD)
    assert error(exc)[0] == "EntityAlreadyExists"
    iam.update_login_profile(UserName="alice", PasswordResetRequired=False, MaxSigninSessionDuration=7200)
    got = iam.get_login_profile(UserName="alice")["LoginProfile"]
    assert got["PasswordResetRequired"] is False and got["MaxSigninSessionDuration"] == 7200
    iam.update_login_profile(UserName="alice", ResetMaxSigninSessionDuration=True)
    assert "MaxSigninSessionDuration" not in iam.get_login_profile(UserName="alice")["LoginProfile"]
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName="alice")
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must delete login profile first.")
    iam.delete_login_profile(UserName="alice")
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile(UserName="alice")
    assert error(exc) == ("NoSuchEntity", "Login Profile for User alice cannot be found.")
    iam.delete_user(UserName="alice")


def test_passwords_are_argon2id_hashes_at_rest(server: LiveServer, iam, tmp_path: Path) -> None:
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password=GOOD)
    with sqlite3.connect(tmp_path / "data" / "rolehop.db") as db:
        [(stored,)] = db.execute("select password_hash from login_profiles").fetchall()
    assert stored.startswith("$argon2id$") and GOOD not in stored


def test_aws_default_policy_applies_when_the_account_has_none(server: LiveServer, iam) -> None:
    iam.create_user(UserName="alice")
    with pytest.raises(ClientError) as exc:
        iam.get_account_password_policy()
    assert error(exc) == (
        "NoSuchEntity",
        f"The Password Policy with domain name {server.account_id} cannot be found.",
    )
    for bad in ("Sh0rt!", "alllowercase1", "NoDigitsOrSymbols"):
        with pytest.raises(ClientError) as exc:
            iam.create_login_profile(UserName="alice", Password=bad)
        assert error(exc)[0] == "PasswordPolicyViolation"
    iam.create_login_profile(UserName="alice", Password="three-Classes")


def test_account_password_policy_is_enforced_with_iams_messages(server: LiveServer, iam) -> None:
    iam.update_account_password_policy(
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=3,
    )
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy == {
        "MinimumPasswordLength": 12,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": False,
        "ExpirePasswords": True,
        "MaxPasswordAge": 90,
        "PasswordReusePrevention": 3,
        "HardExpiry": False,
    }
    iam.create_user(UserName="alice")
    cases = {
        "Short-1a": "Password should have a minimum length of 12",
        "no-uppercase-1": "Password should have at least one uppercase letter",
        "NO-LOWERCASE-1": "Password should have at least one lowercase letter",
        "No-Numbers-Here": "Password should have at least one number",
        "NoSymbolsHere12": "Password should have at least one symbol",
    }
    for password, message in cases.items():
        with pytest.raises(ClientError) as exc:
            iam.create_login_profile(UserName="alice", Password=password)
        assert error(exc) == ("PasswordPolicyViolation", message)
    iam.create_login_profile(UserName="alice", Password="First-Passw0rd")
    # the policy holds on every change too, reuse prevention included
    with pytest.raises(ClientError) as exc:
        iam.update_login_profile(UserName="alice", Password="weak")
    assert error(exc)[0] == "PasswordPolicyViolation"
    iam.update_login_profile(UserName="alice", Password="Second-Passw0rd")
    with pytest.raises(ClientError) as exc:
        iam.update_login_profile(UserName="alice", Password="First-Passw0rd")
    assert error(exc) == ("PasswordPolicyViolation", "Password should not be one of your last 3 passwords")
    # a parameter left out returns to its default; the model's bounds are checked
    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 6,
        "RequireSymbols": False,
        "RequireNumbers": False,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": False,
    }
    lax = server.client("iam", validate=False)
    for bad in ({"MinimumPasswordLength": 5}, {"PasswordReusePrevention": 25}, {"MaxPasswordAge": 1096}):
        with pytest.raises(ClientError) as exc:
            lax.update_account_password_policy(**bad)
        assert error(exc)[0] == "ValidationError"
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as exc:
        iam.delete_account_password_policy()
    assert error(exc)[0] == "NoSuchEntity"


def test_change_password(server: LiveServer, iam) -> None:
    keys = user_with_keys(iam, "alice")
    iam.create_login_profile(UserName="alice", Password=GOOD, PasswordResetRequired=True)
    alice = server.client_for("iam", keys)
    # no permission yet: neither an identity policy nor AllowUsersToChangePassword
    with pytest.raises(ClientError) as exc:
        alice.change_password(OldPassword=GOOD, NewPassword="New-Passw0rd-1")
    assert error(exc)[0] == "AccessDenied"
    iam.update_account_password_policy(AllowUsersToChangePassword=True, PasswordReusePrevention=2)
    with pytest.raises(ClientError) as exc:
        alice.change_password(OldPassword="not-it", NewPassword="New-Passw0rd-1")
    assert error(exc) == ("AccessDenied", "The old password is incorrect.")
    with pytest.raises(ClientError) as exc:
        alice.change_password(OldPassword=GOOD, NewPassword=GOOD)
    assert error(exc)[0] == "PasswordPolicyViolation"
    alice.change_password(OldPassword=GOOD, NewPassword="New-Passw0rd-1")
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["PasswordResetRequired"] is False
    signed_in = sign_in_with_password(
        server.app.rt, server.account_id, "alice", "New-Passw0rd-1", now=server.clock.now
    )
    assert signed_in.user.name == "alice" and not signed_in.mfa_required
    # an explicit deny still wins over AllowUsersToChangePassword
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:ChangePassword", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="alice", PolicyName="no", PolicyDocument=json.dumps(deny))
    with pytest.raises(ClientError) as exc:
        alice.change_password(OldPassword="New-Passw0rd-1", NewPassword="New-Passw0rd-2")
    assert error(exc)[1].endswith("with an explicit deny in an identity-based policy")
    # only IAM users change their own password
    with pytest.raises(ClientError) as exc:
        iam.change_password(OldPassword="x", NewPassword="y")
    assert error(exc)[0] == "InvalidUserType"


def test_wrong_passwords_are_throttled(server: LiveServer, iam, clock: FakeClock) -> None:
    keys = user_with_keys(iam, "alice")
    iam.create_login_profile(UserName="alice", Password=GOOD)
    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    alice = server.client_for("iam", keys)
    for _ in range(5):
        with pytest.raises(ClientError) as exc:
            alice.change_password(OldPassword="guess", NewPassword="New-Passw0rd-1")
        assert error(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        alice.change_password(OldPassword=GOOD, NewPassword="New-Passw0rd-1")
    assert error(exc)[0] == "LimitExceeded" and "user alice" in error(exc)[1]
    clock.advance(301)
    alice.change_password(OldPassword=GOOD, NewPassword="New-Passw0rd-1")


def test_console_sign_in_check(server: LiveServer, iam, clock: FakeClock) -> None:
    """The password check the console uses: one answer for every failure, throttled, unknown names too."""
    rt, account = server.app.rt, server.account_id
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password=GOOD, PasswordResetRequired=True)
    ok = sign_in_with_password(rt, account, "ALICE", GOOD, now=clock.now, source_ip="10.0.0.1")
    assert ok.user.name == "alice" and ok.password_reset_required and not ok.password_expired
    messages = set()
    for name, password in (("alice", "wrong"), ("nobody", GOOD)):
        with pytest.raises(Exception) as exc:
            sign_in_with_password(rt, account, name, password, now=clock.now, source_ip="10.0.0.1")
        messages.add((type(exc.value).__name__, str(exc.value)))
    assert len(messages) == 1
    for _ in range(5):
        with pytest.raises(Exception) as exc:
            sign_in_with_password(rt, account, "nobody", "x", now=clock.now, source_ip="10.0.0.2")
    # passwords are throttled per user and source (a stranger cannot lock a user out from elsewhere)
    with pytest.raises(Exception) as exc:
        sign_in_with_password(rt, account, "nobody", "x", now=clock.now, source_ip="10.0.0.2")
    assert "Too many failed" in str(exc.value)  # unknown names are throttled like real ones
    iam.update_account_password_policy(MaxPasswordAge=1)
    clock.advance(86400)
    assert sign_in_with_password(rt, account, "alice", GOOD, now=clock.now).password_expired


def test_a_password_check_is_no_sign_in_and_mfa_counters(server: LiveServer, iam, clock: FakeClock) -> None:
    iam.create_user(UserName="pat")
    iam.create_login_profile(UserName="pat", Password=GOOD)
    sign_in_with_password(server.app.rt, server.account_id, "pat", GOOD, now=clock.now, source_ip="10.0.0.9")
    # PasswordLastUsed is the last console sign-in (its ConsoleLogin event: tests/api/test_last_used.py)
    assert "PasswordLastUsed" not in iam.get_user(UserName="pat")["User"]
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["MFADevices"] == 1 and summary["MFADevicesInUse"] == 0
