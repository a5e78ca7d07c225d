"""Virtual MFA devices end to end with boto3 and an authenticator of the test's own: the QR code is
scanned, two consecutive codes enroll, codes are accepted once (across nodes and restarts),
wrong codes are throttled, and STS records MFA in the session."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from botocore.exceptions import ClientError
from mfa_support import Device, create_device, enroll, totp

from support import FakeClock, LiveServer, user_keys

WRONG_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_qr_code_is_a_scannable_otpauth_uri(server: LiveServer, iam) -> None:
    iam.create_account_alias(AccountAlias="aster-key")
    serial, secret, uri = create_device(iam, "alice", path="/people/")
    assert serial == f"arn:aws:iam::{server.account_id}:mfa/people/alice"
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/rolehop:alice@aster-key"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["rolehop"] and query["digits"] == ["6"] and query["period"] == ["30"]
    assert query["algorithm"] == ["SHA1"] and len(secret) == 32


def test_enrolment_takes_two_consecutive_codes(server: LiveServer, iam, clock: FakeClock) -> None:
    iam.create_user(UserName="alice")
    serial, secret, _ = create_device(iam, "alice")
    now = clock.now
    refused = [
        (totp(secret, now, -2), totp(secret, now)),  # not consecutive
        (totp(secret, now), totp(secret, now, -1)),  # reversed
        (totp(secret, now, -6), totp(secret, now, -5)),  # stale: three minutes old
        ("000000", "000000"),
    ]
    for first, second in refused:
        with pytest.raises(ClientError) as exc:
            iam.enable_mfa_device(
                UserName="alice", SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
            )
        assert error(exc) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.")
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # as a person does it: the code shown now, then the next one 30 seconds later
    first = totp(secret, now)
    clock.advance(30)
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=serial,
        AuthenticationCode1=first,
        AuthenticationCode2=totp(secret, clock.now),
    )
    [listed] = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert listed["SerialNumber"] == serial and listed["EnableDate"] == clock.now
    got = iam.get_mfa_device(UserName="alice", SerialNumber=serial)
    assert got["UserName"] == "alice" and got["EnableDate"] == clock.now
    # a device is enabled for one user only
    iam.create_user(UserName="bob")
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(
            UserName="bob",
            SerialNumber=serial,
            AuthenticationCode1=totp(secret, clock.now),
            AuthenticationCode2=totp(secret, clock.now, 1),
        )
    assert error(exc)[0] == "EntityAlreadyExists"


def test_seed_is_returned_once_and_sealed_at_rest(
    server: LiveServer, iam, clock: FakeClock, tmp_path: Path
) -> None:
    iam.create_user(UserName="alice")
    device = enroll(iam, "alice", clock)
    serial_b, _, _ = create_device(iam, "spare")
    everything = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert {d["SerialNumber"] for d in everything} == {device.serial, serial_b}
    for listed in everything:
        assert "Base32StringSeed" not in listed and "QRCodePNG" not in listed
    [assigned] = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned["User"]["UserName"] == "alice" and assigned["EnableDate"] == clock.now
    [unassigned] = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert unassigned["SerialNumber"] == serial_b and "User" not in unassigned
    with sqlite3.connect(tmp_path / "data" / "rolehop.db") as db:
        rows = db.execute("select sealed_seed from mfa_devices").fetchall()
    secret_bytes = base64.b32decode(device.secret)
    for (sealed,) in rows:
        assert device.secret.encode() not in sealed and secret_bytes not in sealed


def test_get_session_token_with_mfa_records_it_in_the_session(
    server: LiveServer, iam, clock: FakeClock
) -> None:
    keys = user_keys(iam, "alice")
    device = enroll(iam, "alice", clock)
    iam.put_user_policy(
        UserName="alice",
        PolicyName="mfa-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:ListUsers",
                        "Resource": "*",
                        "Condition": {
                            "Bool": {"aws:MultiFactorAuthPresent": "true"},
                            "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
                        },
                    }
                ],
            }
        ),
    )
    sts = server.client_for("sts", keys)
    creds = sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code())["Credentials"]
    session = server.client_for("iam", creds)
    assert [u["UserName"] for u in session.list_users()["Users"]] == ["alice"]
    clock.advance(3600)  # aws:MultiFactorAuthAge counts from the code's use
    with pytest.raises(ClientError) as exc:
        session.list_users()
    assert error(exc)[0] == "AccessDenied"
    # long-term keys carry no MFA
    with pytest.raises(ClientError) as exc:
        server.client_for("iam", keys).list_users()
    assert error(exc)[0] == "AccessDenied"


def test_wrong_unknown_and_reused_codes_are_refused(server: LiveServer, iam, clock: FakeClock) -> None:
    keys = user_keys(iam, "alice")
    device = enroll(iam, "alice", clock)
    sts = server.client_for("sts", keys)
    code = device.code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(ClientError) as exc:
        sts.get_session_token(SerialNumber=device.serial, TokenCode=wrong)
    assert error(exc) == ("AccessDenied", WRONG_CODE)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    sts.get_session_token(SerialNumber=device.serial, TokenCode=code)
    with pytest.raises(ClientError) as exc:  # the same code twice
        sts.get_session_token(SerialNumber=device.serial, TokenCode=code)
    assert error(exc) == ("AccessDenied", WRONG_CODE)
    with pytest.raises(ClientError) as exc:  # a code of the step before, still inside the window
        sts.get_session_token(SerialNumber=device.serial, TokenCode=totp(device.secret, clock.now, -1))
    assert error(exc) == ("AccessDenied", WRONG_CODE)
    # another user's device, or none at all
    bob = user_keys(iam, "bob")
    for serial in (device.serial, f"arn:aws:iam::{server.account_id}:mfa/nobody"):
        with pytest.raises(ClientError) as exc:
            server.client_for("sts", bob).get_session_token(SerialNumber=serial, TokenCode=device.code())
        assert error(exc)[0] == "AccessDenied" and "unable to validate MFA code" in error(exc)[1]
    # the codes that enabled a device never sign in
    iam.create_user(UserName="carol")
    carol = iam.create_access_key(UserName="carol")["AccessKey"]
    serial, secret, _ = create_device(iam, "carol")
    second = totp(secret, clock.now)
    iam.enable_mfa_device(
        UserName="carol",
        SerialNumber=serial,
        AuthenticationCode1=totp(secret, clock.now, -1),
        AuthenticationCode2=second,
    )
    with pytest.raises(ClientError) as exc:
        server.client_for("sts", carol).get_session_token(SerialNumber=serial, TokenCode=second)
    assert error(exc) == ("AccessDenied", WRONG_CODE)


def test_a_code_is_accepted_once_across_nodes_and_restarts(tmp_path: Path, clock: FakeClock) -> None:
    node_a = LiveServer(tmp_path / "data", clock)
    node_b = LiveServer(tmp_path / "data", clock)  # a second node on the same store and key ring
    try:
        iam = node_a.client("iam")
        keys = user_keys(iam, "alice")
        device = enroll(iam, "alice", clock)
        code = device.code()
        node_a.client_for("sts", keys).get_session_token(SerialNumber=device.serial, TokenCode=code)
        with pytest.raises(ClientError) as exc:
            node_b.client_for("sts", keys).get_session_token(SerialNumber=device.serial, TokenCode=code)
        assert error(exc) == ("AccessDenied", WRONG_CODE)
        second = device.code()
        node_b.client_for("sts", keys).get_session_token(SerialNumber=device.serial, TokenCode=second)
    finally:
        node_a.stop()
        node_b.stop()
    restarted = LiveServer(tmp_path / "data", clock)
    try:
        with pytest.raises(ClientError) as exc:
            restarted.client_for("sts", keys).get_session_token(SerialNumber=device.serial, TokenCode=second)
        assert error(exc) == ("AccessDenied", WRONG_CODE)
    finally:
        restarted.stop()


def test_wrong_codes_are_throttled_per_user_and_released(server: LiveServer, iam, clock: FakeClock) -> None:
    alice = server.client_for("sts", user_keys(iam, "alice"))
    device = enroll(iam, "alice", clock)
    bob_keys = user_keys(iam, "bob")
    bob_device = enroll(iam, "bob", clock)
    for _ in range(5):
        with pytest.raises(ClientError) as exc:
            alice.get_session_token(SerialNumber=device.serial, TokenCode="000000")
        assert error(exc)[0] == "AccessDenied"
    # now even the right code is refused, with a clear error, and without checking it
    with pytest.raises(ClientError) as exc:
        alice.get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    code, message = error(exc)
    assert code == "LimitExceeded"
    assert "Too many failed authentication attempts for user alice" in message and "Try again in" in message
    # other users are not locked out
    server.client_for("sts", bob_keys).get_session_token(
        SerialNumber=bob_device.serial, TokenCode=bob_device.code()
    )
    clock.advance(301)  # the block lasts five minutes
    alice.get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    # a success forgets earlier failures
    for _ in range(4):
        with pytest.raises(ClientError):
            alice.get_session_token(SerialNumber=device.serial, TokenCode="000000")
    alice.get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    with pytest.raises(ClientError) as exc:
        alice.get_session_token(SerialNumber=device.serial, TokenCode="000000")
    assert error(exc)[0] == "AccessDenied"


def test_a_source_guessing_many_users_is_throttled(server: LiveServer, iam, clock: FakeClock) -> None:
    victim_keys = user_keys(iam, "victim")
    victim = enroll(iam, "victim", clock)
    for i in range(4):  # 4 users x 5 failures: the source's limit of 20
        guesser = server.client_for("sts", user_keys(iam, f"guess{i}"))
        for _ in range(5):
            with pytest.raises(ClientError):
                guesser.get_session_token(
                    SerialNumber=f"arn:aws:iam::{server.account_id}:mfa/x", TokenCode="123456"
                )
    with pytest.raises(ClientError) as exc:
        server.client_for("sts", victim_keys).get_session_token(
            SerialNumber=victim.serial, TokenCode=victim.code()
        )
    assert error(exc)[0] == "LimitExceeded" and "source address 127.0.0.1" in error(exc)[1]
    clock.advance(301)
    server.client_for("sts", victim_keys).get_session_token(
        SerialNumber=victim.serial, TokenCode=victim.code()
    )


def test_resync_learns_the_device_drift(server: LiveServer, iam, clock: FakeClock) -> None:
    keys = user_keys(iam, "alice")
    device = enroll(iam, "alice", clock)
    sts = server.client_for("sts", keys)
    clock.advance(60)
    ahead = 6  # the phone's clock runs three minutes fast
    with pytest.raises(ClientError):
        sts.get_session_token(SerialNumber=device.serial, TokenCode=totp(device.secret, clock.now, ahead))
    with pytest.raises(ClientError) as exc:
        iam.resync_mfa_device(
            UserName="alice",
            SerialNumber=device.serial,
            AuthenticationCode1="111111",
            AuthenticationCode2="222222",
        )
    assert error(exc)[0] == "InvalidAuthenticationCode"
    iam.resync_mfa_device(
        UserName="alice",
        SerialNumber=device.serial,
        AuthenticationCode1=totp(device.secret, clock.now, ahead),
        AuthenticationCode2=totp(device.secret, clock.now, ahead + 1),
    )
    clock.advance(60)
    sts.get_session_token(SerialNumber=device.serial, TokenCode=totp(device.secret, clock.now, ahead))


def test_deactivate_delete_and_user_deletion(server: LiveServer, iam, clock: FakeClock) -> None:
    iam.create_user(UserName="alice")
    device = enroll(iam, "alice", clock)
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=device.serial)
    assert error(exc)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName="alice")
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must delete MFA device first.")
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=device.serial)
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    with pytest.raises(ClientError) as exc:
        iam.get_mfa_device(UserName="alice", SerialNumber=device.serial)
    assert error(exc)[0] == "NoSuchEntity"
    iam.delete_virtual_mfa_device(SerialNumber=device.serial)
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=device.serial)
    assert error(exc)[0] == "NoSuchEntity"
    create_device(iam, "alice")  # the name is free again, and taken once used (ignoring case)
    with pytest.raises(ClientError) as exc:
        create_device(iam, "ALICE")
    assert error(exc) == ("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
    iam.delete_user(UserName="alice")


def test_device_tags(server: LiveServer, iam) -> None:
    serial = iam.create_virtual_mfa_device(
        VirtualMFADeviceName="tagged", Tags=[{"Key": "team", "Value": "a"}]
    )["VirtualMFADevice"]["SerialNumber"]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "site", "Value": "b"}])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "site", "Value": "b"},
        {"Key": "team", "Value": "a"},
    ]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["TEAM"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "site", "Value": "b"}]


# --- the decision for role sessions (docs/decisions.md, "MFA") ---------------------------------

TRUST_ANYONE_HERE = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "{root}"}}
MFA_TRUE = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def _roles(server: LiveServer, iam) -> None:
    root = f"arn:aws:iam::{server.account_id}:root"
    plain = {"Version": "2012-10-17", "Statement": [{**TRUST_ANYONE_HERE, "Principal": {"AWS": root}}]}
    guarded = {
        "Version": "2012-10-17",
        "Statement": [{**TRUST_ANYONE_HERE, "Principal": {"AWS": root}, "Condition": MFA_TRUE}],
    }
    iam.create_role(RoleName="plain", AssumeRolePolicyDocument=json.dumps(plain))
    iam.create_role(RoleName="guarded", AssumeRolePolicyDocument=json.dumps(guarded))
    may_assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "iam:ListRoles"], "Resource": "*"}],
    }
    needs_mfa = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*", "Condition": MFA_TRUE},
        ],
    }
    iam.put_user_policy(UserName="alice", PolicyName="assume", PolicyDocument=json.dumps(may_assume))
    iam.put_role_policy(RoleName="plain", PolicyName="needs-mfa", PolicyDocument=json.dumps(needs_mfa))


def test_role_sessions_obtained_with_mfa_carry_it(server: LiveServer, iam, clock: FakeClock) -> None:
    keys = user_keys(iam, "alice")
    device: Device = enroll(iam, "alice", clock)
    _roles(server, iam)
    sts = server.client_for("sts", keys)
    plain = f"arn:aws:iam::{server.account_id}:role/plain"
    guarded = f"arn:aws:iam::{server.account_id}:role/guarded"
    # the trust policy sees the MFA of the AssumeRole call itself
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=guarded, RoleSessionName="no-mfa")
    assert error(exc)[0] == "AccessDenied"
    sts.assume_role(
        RoleArn=guarded, RoleSessionName="mfa", SerialNumber=device.serial, TokenCode=device.code()
    )
    # a role session obtained with MFA carries it: MFA-conditioned permissions and MFA-guarded roles
    with_mfa = sts.assume_role(
        RoleArn=plain, RoleSessionName="with", SerialNumber=device.serial, TokenCode=device.code()
    )["Credentials"]
    server.client_for("iam", with_mfa).list_roles()
    server.client_for("sts", with_mfa).assume_role(RoleArn=guarded, RoleSessionName="chained")
    # one obtained without MFA says so (aws:MultiFactorAuthPresent is "false" in role sessions)
    without = sts.assume_role(RoleArn=plain, RoleSessionName="without")["Credentials"]
    with pytest.raises(ClientError) as exc:
        server.client_for("iam", without).list_roles()
    assert error(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        server.client_for("sts", without).assume_role(RoleArn=guarded, RoleSessionName="chained")
    assert error(exc)[0] == "AccessDenied"
    # and a session obtained from an MFA session (GetSessionToken) inherits the MFA and its time
    session = sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code())["Credentials"]
    inherited = server.client_for("sts", session).assume_role(RoleArn=plain, RoleSessionName="inh")[
        "Credentials"
    ]
    server.client_for("iam", inherited).list_roles()


def test_mfa_age_of_a_role_session_counts_from_the_code(server: LiveServer, iam, clock: FakeClock) -> None:
    keys = user_keys(iam, "alice")
    device = enroll(iam, "alice", clock)
    _roles(server, iam)
    fresh_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "iam:ListRoles",
                "Resource": "*",
                "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "600"}},
            }
        ],
    }
    iam.put_role_policy(RoleName="plain", PolicyName="fresh", PolicyDocument=json.dumps(fresh_only))
    creds = server.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{server.account_id}:role/plain",
        RoleSessionName="aged",
        SerialNumber=device.serial,
        TokenCode=device.code(),
    )["Credentials"]
    role_iam = server.client_for("iam", creds)
    role_iam.list_roles()
    clock.advance(601)
    with pytest.raises(ClientError) as exc:
        role_iam.list_roles()
    assert "explicit deny" in error(exc)[1]


def test_only_iam_users_present_mfa(server: LiveServer, iam, sts, clock: FakeClock) -> None:
    iam.create_user(UserName="alice")
    device = enroll(iam, "alice", clock)
    with pytest.raises(ClientError) as exc:  # the root user cannot use a user's device
        sts.get_session_token(SerialNumber=device.serial, TokenCode=device.code())
    assert error(exc)[0] == "AccessDenied"
