"""Findings of the security review, kept fixed: each test is an attack that must fail."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError
from mfa_support import enroll

from rolehop.core.errors import AccessDenied, LimitExceeded
from rolehop.core.keyring import Key, KeyRing
from rolehop.core.session_token import SessionClaims, temporary_secret
from rolehop.services.iam.login_profiles import sign_in_with_password
from support import LiveServer, user_keys


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def trust(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def test_aws_reserved_paths_cannot_be_used(iam, server: LiveServer) -> None:
    # a service-linked role escapes SCPs: customers must not be able to make one
    with pytest.raises(ClientError) as exc:
        iam.create_role(
            RoleName="esc", Path="/aws-service-role/", AssumeRolePolicyDocument=trust(server.account_id)
        )
    assert code(exc) == "InvalidInput"
    iam.create_user(UserName="u")
    with pytest.raises(ClientError) as exc:
        iam.update_user(UserName="u", NewPath="/aws-reserved/x/")
    assert code(exc) == "InvalidInput"


def test_a_user_path_that_looks_service_linked_still_obeys_scps(server: LiveServer) -> None:
    orgs = server.organizations()
    status = orgs.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]
    member = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    iam = server.client("iam")
    iam.create_user(UserName="op")
    iam.attach_user_policy(UserName="op", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    creds = server.client_for("sts", iam.create_access_key(UserName="op")["AccessKey"]).assume_role(
        RoleArn=f"arn:aws:iam::{member['AccountId']}:role/OrganizationAccountAccessRole", RoleSessionName="op"
    )["Credentials"]
    member_iam = server.client_for("iam", creds)
    member_iam.create_user(UserName="sneaky", Path="/:role/aws-service-role/")
    member_iam.attach_user_policy(UserName="sneaky", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    sneaky = server.client_for("iam", member_iam.create_access_key(UserName="sneaky")["AccessKey"])
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "iam:CreateGroup", "Resource": "*"}],
        }
    )
    scp = orgs.create_policy(Name="no-groups", Description="", Type="SERVICE_CONTROL_POLICY", Content=deny)
    orgs.attach_policy(PolicyId=scp["Policy"]["PolicySummary"]["Id"], TargetId=member["AccountId"])
    with pytest.raises(ClientError) as exc:
        sneaky.create_group(GroupName="g")
    assert code(exc) == "AccessDenied"


def test_oversized_access_key_ids_are_refused_and_never_cached(server: LiveServer) -> None:
    huge = "AKIA" + "X" * 5000
    with pytest.raises(ClientError) as exc:
        server.client("sts", huge, "whatever").get_caller_identity()
    assert code(exc) == "InvalidClientTokenId"
    assert huge not in server.app.rt.caches.access_keys


def test_bodies_over_a_mebibyte_are_refused_unread(server: LiveServer) -> None:
    request = urllib.request.Request(server.url + "/signin", data=b"x" * (2 << 20), method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request)
    assert exc.value.code == 413


def test_a_stranger_guessing_passwords_cannot_lock_the_user_out(server: LiveServer, iam, clock) -> None:
    keys = user_keys(iam, "alice")
    device = enroll(iam, "alice", clock)
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    rt = server.app.rt
    for _ in range(5):
        with pytest.raises(AccessDenied):
            sign_in_with_password(
                rt, server.account_id, "alice", "wrong", now=clock.now, source_ip="198.51.100.7"
            )
    with pytest.raises(LimitExceeded):  # the guesser's address is throttled for this user...
        sign_in_with_password(
            rt, server.account_id, "alice", "wrong", now=clock.now, source_ip="198.51.100.7"
        )
    # ...but alice signs in from her own address, and her MFA on the API is untouched
    sign_in_with_password(
        rt, server.account_id, "alice", "Correct-Horse-9", now=clock.now, source_ip="203.0.113.9"
    )
    clock.advance(30)
    server.client_for("sts", keys).get_session_token(SerialNumber=device.serial, TokenCode=device.code())


def test_assume_role_denials_do_not_tell_which_roles_exist(server: LiveServer, iam) -> None:
    iam.create_role(RoleName="private", AssumeRolePolicyDocument=trust("111111111111"))
    sts = server.client_for("sts", user_keys(iam, "mallory"))
    messages = []
    for role in ("private", "missing"):
        arn = f"arn:aws:iam::{server.account_id}:role/{role}"
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=arn, RoleSessionName="probe")
        messages.append(exc.value.response["Error"]["Message"].replace(role, "ROLE"))
    assert messages[0] == messages[1]
    assert messages[0].endswith(
        "is not authorized to perform: sts:AssumeRole on resource: "
        f"arn:aws:iam::{server.account_id}:role/ROLE"
    )


def test_sessions_never_share_a_secret_even_if_key_ids_collide() -> None:
    ring = KeyRing([Key("k1", b"\x01" * 32)])
    base = SessionClaims("ASIAAAAAAAAAAAAAAAAA", "111122223333", "arn", "AIDA", "user", 0, 1)
    first = temporary_secret(ring, "k1", replace(base, salt="a"))
    assert first != temporary_secret(ring, "k1", replace(base, salt="b"))
    assert first == temporary_secret(ring, "k1", replace(base, salt="a"))
