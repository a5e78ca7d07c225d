"""STS GetFederationToken with real boto3 clients: federated-user sessions whose permissions are the
intersection of the issuing user's policies and the session policies (none without a session
policy), their identity, durations, scope (no IAM, of STS only GetCallerIdentity), session tags,
the callers refused, and their audit records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from trail_support import by_request, lookup_all, module_server

from support import LiveServer

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
DESCRIBE_ORG = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "organizations:DescribeOrganization", "Resource": "*"}],
}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return str(err["Code"]), str(err["Message"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("federation") / "data") as server:
        server.organizations()
        yield server


def new_user(
    live: LiveServer, name: str, *, managed: str | None = None, inline: Any = None
) -> dict[str, str]:
    iam = live.client("iam")
    iam.create_user(UserName=name)
    if managed:
        iam.attach_user_policy(UserName=name, PolicyArn=managed)
    if inline is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(inline))
    return iam.create_access_key(UserName=name)["AccessKey"]


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> dict[str, str]:
    return new_user(live, "fed-admin", managed=ADMIN)


def federate(live: LiveServer, keys: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    if isinstance(kwargs.get("Policy"), dict):
        kwargs["Policy"] = json.dumps(kwargs["Policy"])
    sts = live.client("sts", keys["AccessKeyId"], keys["SecretAccessKey"], validate=False)
    result: dict[str, Any] = sts.get_federation_token(**kwargs)
    return result


def test_the_federated_user_and_its_credentials(live: LiveServer, admin: dict[str, str]) -> None:
    account = live.account_id
    before = live.clock.now
    token = federate(live, admin, Name="Bob", Policy=DESCRIBE_ORG)
    assert token["FederatedUser"] == {
        "FederatedUserId": f"{account}:Bob",
        "Arn": f"arn:aws:sts::{account}:federated-user/Bob",
    }
    creds = token["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"] and creds["SecretAccessKey"]
    assert creds["Expiration"] == (before + timedelta(seconds=43200)).replace(microsecond=0)
    assert 0 < token["PackedPolicySize"] <= 100
    ident = live.client_for("sts", creds).get_caller_identity()
    assert ident == {
        "UserId": f"{account}:Bob",
        "Account": account,
        "Arn": f"arn:aws:sts::{account}:federated-user/Bob",
        "ResponseMetadata": ident["ResponseMetadata"],
    }


def test_permissions_are_the_intersection(live: LiveServer, admin: dict[str, str]) -> None:
    # the admin user, scoped down to one read by the session policy
    orgs = live.client_for(
        "organizations", federate(live, admin, Name="Scoped", Policy=DESCRIBE_ORG)["Credentials"]
    )
    assert orgs.describe_organization()["Organization"]["Id"].startswith("o-")
    with pytest.raises(ClientError) as exc:
        orgs.list_accounts()
    code, message = error(exc)
    assert code == "AccessDeniedException"
    assert f"arn:aws:sts::{live.account_id}:federated-user/Scoped" in message

    # a user who may only list accounts: a session policy allowing everything grants no more
    lister = new_user(
        live,
        "fed-lister",
        inline={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["organizations:ListAccounts", "sts:GetFederationToken"],
                    "Resource": "*",
                }
            ],
        },
    )
    orgs = live.client_for(
        "organizations", federate(live, lister, Name="Wide", Policy=EVERYTHING)["Credentials"]
    )
    assert orgs.list_accounts()["Accounts"]
    with pytest.raises(ClientError) as exc:
        orgs.describe_organization()
    assert error(exc)[0] == "AccessDeniedException"


def test_a_managed_session_policy_scopes_too(live: LiveServer, admin: dict[str, str]) -> None:
    policy = live.client("iam").create_policy(
        PolicyName="fed-describe", PolicyDocument=json.dumps(DESCRIBE_ORG)
    )
    token = federate(live, admin, Name="Managed", PolicyArns=[{"arn": policy["Policy"]["Arn"]}])
    orgs = live.client_for("organizations", token["Credentials"])
    assert orgs.describe_organization()["Organization"]
    with pytest.raises(ClientError):
        orgs.list_roots()


def test_without_a_session_policy_nothing_is_allowed(live: LiveServer, admin: dict[str, str]) -> None:
    token = federate(live, admin, Name="Bare")
    assert "PackedPolicySize" not in token
    creds = token["Credentials"]
    with pytest.raises(ClientError) as exc:
        live.client_for("organizations", creds).describe_organization()
    assert error(exc)[0] == "AccessDeniedException"
    # GetCallerIdentity needs no permission
    assert live.client_for("sts", creds).get_caller_identity()["Arn"].endswith(":federated-user/Bare")


def test_namesake_sessions_of_different_users_keep_their_own_permissions(
    live: LiveServer, admin: dict[str, str]
) -> None:
    """The federated user ID ("ACCOUNT:name") is the caller's choice: another user's session of the
    same name must not share the admin's permissions (nor the other way round), cached or not."""
    weak = new_user(
        live,
        "fed-weak",
        inline={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"}],
        },
    )
    # no write between the two sessions' calls: nothing clears the server's caches in between
    allowed = live.client_for(
        "organizations", federate(live, admin, Name="Same", Policy=EVERYTHING)["Credentials"]
    )
    refused = live.client_for(
        "organizations", federate(live, weak, Name="Same", Policy=EVERYTHING)["Credentials"]
    )
    assert allowed.describe_organization()["Organization"]
    with pytest.raises(ClientError) as exc:
        refused.describe_organization()
    assert error(exc)[0] == "AccessDeniedException"
    assert allowed.describe_organization()["Organization"]


def test_federated_sessions_reach_no_iam_and_of_sts_only_get_caller_identity(
    live: LiveServer, admin: dict[str, str]
) -> None:
    creds = federate(live, admin, Name="NoIam", Policy=EVERYTHING)["Credentials"]
    with pytest.raises(ClientError) as exc:
        live.client_for("iam", creds).list_users()
    assert error(exc) == ("InvalidClientTokenId", "The security token included in the request is invalid.")
    sts = live.client_for("sts", creds)
    role = live.client("iam").create_role(
        RoleName="fed-target",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": live.account_id}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]
    calls = {
        "GetSessionToken": lambda: sts.get_session_token(),
        "GetFederationToken": lambda: sts.get_federation_token(Name="Again", Policy=json.dumps(EVERYTHING)),
        "AssumeRole": lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ss"),
        "GetAccessKeyInfo": lambda: sts.get_access_key_info(AccessKeyId=admin["AccessKeyId"]),
    }
    for action, call in calls.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("AccessDenied", f"Cannot call {action} with session credentials")
    assert sts.get_caller_identity()["Account"] == live.account_id


def test_durations(live: LiveServer, admin: dict[str, str]) -> None:
    sts = live.client("sts", admin["AccessKeyId"], admin["SecretAccessKey"], validate=False)
    now = live.clock.now.replace(microsecond=0)
    for seconds in (900, 129600):
        creds = sts.get_federation_token(Name="Timed", DurationSeconds=seconds)["Credentials"]
        assert creds["Expiration"] == now + timedelta(seconds=seconds)
    for seconds in (899, 129601):
        with pytest.raises(ClientError) as exc:
            sts.get_federation_token(Name="Timed", DurationSeconds=seconds)
        assert error(exc)[0] == "ValidationError"
    # the root user's sessions last one hour at most, longer requests silently shortened
    root = live.client("sts").get_federation_token(Name="RootFed", DurationSeconds=7200)
    assert root["Credentials"]["Expiration"] == now + timedelta(seconds=3600)


def test_an_expired_federation_token_is_refused(live: LiveServer, admin: dict[str, str]) -> None:
    creds = federate(live, admin, Name="Short", DurationSeconds=900)["Credentials"]
    sts = live.client_for("sts", creds)
    assert sts.get_caller_identity()
    live.clock.advance(901)
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert error(exc)[0] == "ExpiredToken"


def test_a_root_federated_session_holds_roots_permissions_scoped(live: LiveServer) -> None:
    creds = live.client("sts").get_federation_token(Name="RootBob", Policy=json.dumps(DESCRIBE_ORG))[
        "Credentials"
    ]
    orgs = live.client_for("organizations", creds)
    assert orgs.describe_organization()["Organization"]
    with pytest.raises(ClientError):
        orgs.list_accounts()
    ident = live.client_for("sts", creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{live.account_id}:federated-user/RootBob"


def test_callers_refused(live: LiveServer, admin: dict[str, str]) -> None:
    iam = live.client("iam")
    role = iam.create_role(
        RoleName="fed-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": live.account_id}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]
    iam.attach_role_policy(RoleName="fed-role", PolicyArn=ADMIN)
    role_creds = live.client_for("sts", admin).assume_role(RoleArn=role["Arn"], RoleSessionName="rr")[
        "Credentials"
    ]
    session_creds = live.client_for("sts", admin).get_session_token()["Credentials"]
    for creds in (role_creds, session_creds):
        with pytest.raises(ClientError) as exc:
            live.client_for("sts", creds).get_federation_token(Name="Nope", Policy=json.dumps(EVERYTHING))
        assert error(exc) == ("AccessDenied", "Cannot call GetFederationToken with session credentials")

    # a user whose policies do not allow sts:GetFederationToken on the federated-user ARN
    nobody = new_user(
        live,
        "fed-nobody",
        inline={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:GetFederationToken",
                    "Resource": f"arn:aws:sts::{live.account_id}:federated-user/Only*",
                }
            ],
        },
    )
    assert federate(live, nobody, Name="OnlyMe")["FederatedUser"]
    with pytest.raises(ClientError) as exc:
        federate(live, nobody, Name="Other")
    code, message = error(exc)
    assert code == "AccessDenied"
    assert (
        f"arn:aws:iam::{live.account_id}:user/fed-nobody is not authorized to perform: "
        f"sts:GetFederationToken on resource: arn:aws:sts::{live.account_id}:federated-user/Other"
    ) in message


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"Name": "a"}, "ValidationError"),
        ({"Name": "has space"}, "ValidationError"),
        ({"Name": "x" * 33}, "ValidationError"),
        ({"Name": "Ok", "Policy": '{"Statement": [{"Effect": "Allow"}]}'}, "MalformedPolicyDocument"),
        ({"Name": "Ok", "Policy": "not json"}, "MalformedPolicyDocument"),
        (
            {
                "Name": "Ok",
                "Policy": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": "x" * 3000}]}
                ),
            },
            "ValidationError",
        ),
    ],
)
def test_invalid_requests(live: LiveServer, admin: dict[str, str], kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as exc:
        federate(live, admin, **kwargs)
    assert error(exc)[0] == code


def test_session_tags(live: LiveServer) -> None:
    account = live.account_id
    untagging = new_user(
        live,
        "fed-untagging",
        inline={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["sts:GetFederationToken", "organizations:*"], "Resource": "*"}
            ],
        },
    )
    tags = [{"Key": "team", "Value": "blue"}]
    with pytest.raises(ClientError) as exc:
        federate(live, untagging, Name="Tagged", Policy=EVERYTHING, Tags=tags)
    assert error(exc)[0] == "AccessDenied" and "sts:TagSession" in error(exc)[1]

    tagging = new_user(live, "fed-tagging", managed=ADMIN)
    conditional = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "organizations:Describe*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "aws:PrincipalTag/team": "blue",
                        "aws:PrincipalType": "FederatedUser",
                        "aws:userid": f"{account}:Tagged",
                    }
                },
            }
        ],
    }
    token = federate(live, tagging, Name="Tagged", Policy=conditional, Tags=tags)
    assert 0 < token["PackedPolicySize"] <= 100
    assert live.client_for("organizations", token["Credentials"]).describe_organization()["Organization"]
    other = federate(live, tagging, Name="Tagged", Policy=conditional, Tags=[{"Key": "team", "Value": "red"}])
    with pytest.raises(ClientError):
        live.client_for("organizations", other["Credentials"]).describe_organization()


def test_a_deleted_issuers_sessions_stop_working(live: LiveServer) -> None:
    keys = new_user(live, "fed-gone", managed=ADMIN)
    creds = federate(live, keys, Name="Orphan", Policy=EVERYTHING)["Credentials"]
    sts = live.client_for("sts", creds)
    assert sts.get_caller_identity()
    iam = live.client("iam")
    iam.detach_user_policy(UserName="fed-gone", PolicyArn=ADMIN)
    iam.delete_access_key(UserName="fed-gone", AccessKeyId=keys["AccessKeyId"])
    iam.delete_user(UserName="fed-gone")
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert error(exc)[0] == "InvalidClientTokenId"


def test_audit_records_of_a_federated_session(live: LiveServer, admin: dict[str, str]) -> None:
    token = federate(live, admin, Name="Audited", Policy=DESCRIBE_ORG)
    creds = token["Credentials"]
    described = live.client_for("organizations", creds).describe_organization()
    request_id = described["ResponseMetadata"]["RequestId"]
    events = lookup_all(live.client("cloudtrail"), "Username", "Audited")
    [record] = by_request(events, request_id)
    identity = record["userIdentity"]
    user = live.client("iam").get_user(UserName="fed-admin")["User"]
    assert identity["type"] == "FederatedUser"
    assert identity["principalId"] == f"{live.account_id}:Audited"
    assert identity["arn"] == token["FederatedUser"]["Arn"]
    assert identity["accessKeyId"] == creds["AccessKeyId"]
    assert "userName" not in identity
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "IAMUser",
        "principalId": user["UserId"],
        "arn": user["Arn"],
        "accountId": live.account_id,
        "userName": "fed-admin",
    }
    # the GetFederationToken call itself: recorded as the user, its response without secrets
    issued = by_request(lookup_all(live.client("cloudtrail"), "Username", "fed-admin"), request_id_of(token))
    [call] = issued
    assert call["eventName"] == "GetFederationToken"
    text = json.dumps(call)
    assert creds["SessionToken"] not in text and creds["SecretAccessKey"] not in text
    assert call["responseElements"]["federatedUser"]["arn"] == token["FederatedUser"]["Arn"]


def request_id_of(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])
