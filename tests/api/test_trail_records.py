"""The CloudTrail records of API calls, as LookupEvents returns them to boto3: CloudTrail's record
format (IAM User Guide, "Logging IAM and AWS STS API calls with AWS CloudTrail"; CloudTrail User Guide,
"CloudTrail record contents"), with every secret left out; and a change's record in the store by
the time its response arrives."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from mfa_support import enroll
from trail_support import by_request, lookup_all, module_server

from rolehop.services.pipeline.trail_records import EVENT_VERSION
from support import ROOT_KEY, LiveServer

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
TRAIL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
RESPONSE_TIME = re.compile(
    r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d [AP]M"
)  # "Jul 18, 2014 4:07:39 PM"
PASSWORD = "Trail-Pa55word-never-recorded!"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("records") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def cloudtrail(live: LiveServer) -> Any:
    return live.client("cloudtrail")


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> dict[str, str]:
    iam = live.client("iam")
    iam.create_user(UserName="rec-admin")
    iam.attach_user_policy(UserName="rec-admin", PolicyArn=ADMIN)
    return iam.create_access_key(UserName="rec-admin")["AccessKey"]


def request_id(response: dict[str, Any]) -> str:
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-requestid"] == response["ResponseMetadata"]["RequestId"]
    return str(headers["x-amzn-requestid"])


def the_record(cloudtrail: Any, response: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    [found] = by_request(lookup_all(cloudtrail, key, value), request_id(response))
    return found


def test_a_changes_record_is_stored_with_the_change(live: LiveServer) -> None:
    """No flush, no lookup: the row is there when the response arrives (one transaction)."""
    created = live.client("iam").create_user(UserName="rec-durable")
    database = live.config.data_dir / "rolehop.db"
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT event_name, record FROM trail_events WHERE request_id = ?", (request_id(created),)
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] == "CreateUser"
    assert json.loads(rows[0][1])["requestParameters"] == {"userName": "rec-durable"}


def test_an_iam_users_calls(live: LiveServer, cloudtrail: Any, admin: dict[str, str]) -> None:
    iam = live.client_for("iam", admin)
    account = live.account_id
    created = iam.create_user(UserName="rec-made", Tags=[{"Key": "team", "Value": "audit"}])
    live.clock.advance(1)
    read = iam.get_user(UserName="rec-made")
    key = iam.create_access_key(UserName="rec-made")
    profile = iam.create_login_profile(UserName="rec-made", Password=PASSWORD, PasswordResetRequired=True)

    write = the_record(cloudtrail, created, "Username", "rec-admin")
    assert write["eventVersion"] == EVENT_VERSION
    assert write["userIdentity"] == {
        "type": "IAMUser",
        "principalId": iam.get_user(UserName="rec-admin")["User"]["UserId"],
        "arn": f"arn:aws:iam::{account}:user/rec-admin",
        "accountId": account,
        "accessKeyId": admin["AccessKeyId"],
        "userName": "rec-admin",
    }  # long-term keys: no sessionContext
    assert TRAIL_TIME.fullmatch(write["eventTime"])
    assert (write["eventSource"], write["eventName"], write["awsRegion"]) == (
        "iam.amazonaws.com",
        "CreateUser",
        "us-east-1",
    )
    assert write["sourceIPAddress"] == "127.0.0.1"
    assert write["userAgent"].startswith("Boto3/")
    # requestParameters in CloudTrail's lowerCamelCase, nested members too
    assert write["requestParameters"] == {"userName": "rec-made", "tags": [{"key": "team", "value": "audit"}]}
    user = write["responseElements"]["user"]
    assert (user["userName"], user["userId"], user["arn"], user["path"]) == (
        "rec-made",
        created["User"]["UserId"],
        created["User"]["Arn"],
        "/",
    )
    assert RESPONSE_TIME.fullmatch(user["createDate"])
    assert (write["readOnly"], write["eventType"], write["managementEvent"], write["eventCategory"]) == (
        False,
        "AwsApiCall",
        True,
        "Management",
    )
    assert write["recipientAccountId"] == account
    assert "sharedEventID" not in write and "resources" not in write

    get = the_record(cloudtrail, read, "Username", "rec-admin")
    assert get["readOnly"] is True
    assert get["requestParameters"] == {"userName": "rec-made"}
    assert get["responseElements"] is None  # CloudTrail records no response of a read

    made_key = the_record(cloudtrail, key, "Username", "rec-admin")
    shown = made_key["responseElements"]["accessKey"]
    assert shown["accessKeyId"] == key["AccessKey"]["AccessKeyId"]
    assert (shown["userName"], shown["status"]) == ("rec-made", "Active")
    assert "secretAccessKey" not in shown
    assert key["AccessKey"]["SecretAccessKey"] not in json.dumps(made_key)

    login = the_record(cloudtrail, profile, "Username", "rec-admin")
    # IAM leaves the password out of requestParameters (CloudTrail shows userName and passwordResetRequired)
    assert login["requestParameters"] == {"userName": "rec-made", "passwordResetRequired": True}
    assert login["responseElements"]["loginProfile"]["userName"] == "rec-made"
    assert PASSWORD not in json.dumps(login)


def test_the_root_users_calls(live: LiveServer, cloudtrail: Any) -> None:
    listed = live.client("iam").list_users()
    root = the_record(cloudtrail, listed, "Username", "root")
    assert root["userIdentity"] == {
        "type": "Root",
        "principalId": live.account_id,
        "arn": f"arn:aws:iam::{live.account_id}:root",
        "accountId": live.account_id,
        "accessKeyId": ROOT_KEY,
    }
    assert root["requestParameters"] is None and root["responseElements"] is None


def test_a_role_sessions_calls_and_its_assume_role(
    live: LiveServer, cloudtrail: Any, admin: dict[str, str]
) -> None:
    iam = live.client("iam")
    account = live.account_id
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:*"}
        ],
    }
    role = iam.create_role(RoleName="rec-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.attach_role_policy(RoleName="rec-role", PolicyArn=ADMIN)
    device = enroll(live.client_for("iam", admin), "rec-admin", live.clock)
    code = device.code()
    assumed = live.client_for("sts", admin).assume_role(
        RoleArn=role["Arn"],
        RoleSessionName="rec-session",
        SerialNumber=device.serial,
        TokenCode=code,
        SourceIdentity="rec-admin",
    )
    creds = assumed["Credentials"]

    record = the_record(cloudtrail, assumed, "Username", "rec-admin")
    assert (record["eventSource"], record["eventName"], record["readOnly"]) == (
        "sts.amazonaws.com",
        "AssumeRole",
        True,
    )
    # the MFA code is left out, its device's serial number kept (IAM User Guide's AssumeRole example)
    assert record["requestParameters"] == {
        "roleArn": role["Arn"],
        "roleSessionName": "rec-session",
        "serialNumber": device.serial,
        "sourceIdentity": "rec-admin",
    }
    response = record["responseElements"]
    assert set(response["credentials"]) == {"accessKeyId", "expiration"}  # never the token or the secret
    assert response["credentials"]["accessKeyId"] == creds["AccessKeyId"]
    assert RESPONSE_TIME.fullmatch(response["credentials"]["expiration"])
    assert response["assumedRoleUser"]["arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert record["resources"] == [{"ARN": role["Arn"], "accountId": account, "type": "AWS::IAM::Role"}]
    text = json.dumps(record)
    assert creds["SessionToken"] not in text and creds["SecretAccessKey"] not in text and code not in text
    assert "sharedEventID" not in record  # the role is in the caller's own account: one record

    session = live.client_for("iam", creds)
    roles = session.list_roles()
    who = live.client_for("sts", creds).get_caller_identity()
    used = the_record(cloudtrail, roles, "Username", "rec-session")
    identity = used["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["principalId"] == assumed["AssumedRoleUser"]["AssumedRoleId"]
    assert identity["arn"] == f"arn:aws:sts::{account}:assumed-role/rec-role/rec-session"
    assert (identity["accountId"], identity["accessKeyId"]) == (account, creds["AccessKeyId"])
    assert "userName" not in identity
    context = identity["sessionContext"]
    assert context["sessionIssuer"] == {
        "type": "Role",
        "principalId": role["RoleId"],
        "arn": role["Arn"],
        "accountId": account,
        "userName": "rec-role",
    }
    assert context["attributes"]["mfaAuthenticated"] == "true"
    assert TRAIL_TIME.fullmatch(context["attributes"]["creationDate"])
    assert context["sourceIdentity"] == "rec-admin"

    caller = the_record(cloudtrail, who, "Username", "rec-session")
    assert (caller["eventName"], caller["readOnly"]) == ("GetCallerIdentity", True)
    assert caller["requestParameters"] is None and caller["responseElements"] is None


def test_mfa_codes_are_never_recorded(live: LiveServer, cloudtrail: Any) -> None:
    iam = live.client("iam")
    iam.create_user(UserName="rec-mfa")
    device = enroll(iam, "rec-mfa", live.clock)
    enabled = [
        r
        for r in (
            json.loads(e["CloudTrailEvent"]) for e in lookup_all(cloudtrail, "EventName", "EnableMFADevice")
        )
        if r["requestParameters"]["userName"] == "rec-mfa"
    ]
    assert len(enabled) == 1
    assert enabled[0]["requestParameters"] == {"userName": "rec-mfa", "serialNumber": device.serial}
