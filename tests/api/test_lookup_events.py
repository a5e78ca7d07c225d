"""CloudTrail's LookupEvents over the live API, with boto3 and the AWS CLI: newest first, each lookup
attribute, the time range, paging, CloudTrail's errors, authorization, and each account's own event
history (a cross-account AssumeRole in both, linked by sharedEventID)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from trail_support import by_request, lookup_all, module_server, record

from pg import fresh_database
from rolehop.core import arn
from rolehop.core.errors import OperationNotPermittedException
from rolehop.services.cloudtrail.lookup_events import lookup
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.caller import Caller
from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ACCESS_ROLE = "OrganizationAccountAccessRole"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module's tests, on each store (paging compares (time, chain, seq) positions)."""
    data = tmp_path_factory.mktemp("lookup") / "data"
    if request.param == "sqlite":
        with module_server(data) as server:
            yield server
        return
    with fresh_database() as url, module_server(data, url) as server:
        yield server


@pytest.fixture(scope="module")
def cloudtrail(live: LiveServer) -> Any:
    return live.client("cloudtrail")


def new_user(live: LiveServer, name: str, policy: str | None = ADMIN) -> dict[str, str]:
    iam = live.client("iam")
    iam.create_user(UserName=name)
    if policy:
        iam.attach_user_policy(UserName=name, PolicyArn=policy)
    return iam.create_access_key(UserName=name)["AccessKey"]


def request_id(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])


def refused(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return {
        "Status": response["ResponseMetadata"]["HTTPStatusCode"],
        "Code": response["Error"]["Code"],
        "Message": response["Error"]["Message"],
    }


def test_events_newest_first_and_each_lookup_attribute(live: LiveServer, cloudtrail: Any) -> None:
    keys = new_user(live, "ct-alice")
    iam = live.client_for("iam", keys)
    created = iam.create_user(UserName="ct-target")
    live.clock.advance(1)
    read = iam.get_user(UserName="ct-target")
    live.clock.advance(1)
    tagged = iam.tag_user(UserName="ct-target", Tags=[{"Key": "k", "Value": "v"}])
    live.clock.advance(1)
    ids = [request_id(r) for r in (created, read, tagged)]

    events = lookup_all(cloudtrail, "Username", "ct-alice")
    assert [e["EventName"] for e in events] == ["TagUser", "GetUser", "CreateUser"]
    assert [record(e)["requestID"] for e in events] == ids[::-1]
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True) and len(set(times)) == 3
    newest = events[0]
    assert newest["Username"] == "ct-alice"
    assert newest["AccessKeyId"] == keys["AccessKeyId"]
    assert newest["EventSource"] == "iam.amazonaws.com"
    assert newest["ReadOnly"] == "false" and events[1]["ReadOnly"] == "true"
    assert newest["Resources"] == [{"ResourceType": "AWS::IAM::User", "ResourceName": "ct-target"}]
    assert record(newest)["eventID"] == newest["EventId"]
    event_ids = [e["EventId"] for e in events]

    # each attribute is an exact match on its own column
    def ids_for(key: str, value: str) -> set[str]:
        return {e["EventId"] for e in lookup_all(cloudtrail, key, value)}

    assert ids_for("EventId", event_ids[1]) == {event_ids[1]}
    assert event_ids[2] in ids_for("EventName", "CreateUser")
    assert event_ids[0] not in ids_for("EventName", "CreateUser")
    read_only = lookup_all(cloudtrail, "ReadOnly", "true")
    assert event_ids[1] in {e["EventId"] for e in read_only}
    assert {e["ReadOnly"] for e in read_only} == {"true"}
    writes = ids_for("ReadOnly", "false")
    assert {event_ids[0], event_ids[2]} <= writes and event_ids[1] not in writes
    assert set(event_ids) <= ids_for("ResourceName", "ct-target")
    assert ids_for("ResourceName", "ct-targe") == set()  # exact, not a prefix
    users = lookup_all(cloudtrail, "ResourceType", "AWS::IAM::User")
    assert set(event_ids) <= {e["EventId"] for e in users}
    assert all("AWS::IAM::User" in {r["ResourceType"] for r in e["Resources"]} for e in users)
    assert ids_for("AccessKeyId", keys["AccessKeyId"]) == set(event_ids)
    sources = lookup_all(cloudtrail, "EventSource", "iam.amazonaws.com")
    assert set(event_ids) <= {e["EventId"] for e in sources}
    assert {e["EventSource"] for e in sources} == {"iam.amazonaws.com"}
    assert ids_for("Username", "ct-nobody-at-all") == set()


def test_the_aws_cli_looks_events_up(live: LiveServer, cloudtrail: Any, tmp_path: Path) -> None:
    """`aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,…` works unchanged."""
    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": ROOT_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = Path(sys.executable).parent / "aws"
    done = subprocess.run(
        [
            str(aws),
            "cloudtrail",
            "lookup-events",
            "--endpoint-url",
            live.url,
            "--lookup-attributes",
            "AttributeKey=Username,AttributeValue=ct-alice",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["Events"]
    assert [e["EventName"] for e in events] == ["TagUser", "GetUser", "CreateUser"]
    assert [e["EventId"] for e in events] == [
        e["EventId"] for e in lookup_all(cloudtrail, "Username", "ct-alice")
    ]
    assert json.loads(events[0]["CloudTrailEvent"])["userIdentity"]["userName"] == "ct-alice"


def test_start_and_end_time_are_inclusive(live: LiveServer, cloudtrail: Any) -> None:
    iam = live.client_for("iam", new_user(live, "ct-timer"))
    moments = []
    for _ in range(3):
        moments.append(live.clock.now)
        iam.get_user(UserName="ct-timer")
        live.clock.advance(60)

    def names(**window: Any) -> list[str]:
        return [record(e)["eventTime"] for e in lookup_all(cloudtrail, "Username", "ct-timer", **window)]

    stamps = [m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in moments]
    assert names() == stamps[::-1]
    assert names(StartTime=moments[1], EndTime=moments[1]) == [stamps[1]]
    assert names(StartTime=moments[1]) == [stamps[2], stamps[1]]
    assert names(EndTime=moments[1]) == [stamps[1], stamps[0]]
    assert names(StartTime=moments[2] + timedelta(seconds=1)) == []


def test_pages_through_max_results_and_next_token(live: LiveServer, cloudtrail: Any) -> None:
    iam = live.client_for("iam", new_user(live, "ct-pager"))
    made = []
    for _ in range(5):
        made.append(request_id(iam.get_user(UserName="ct-pager")))
        live.clock.advance(1)
    pages = list(
        cloudtrail.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "ct-pager"}],
            PaginationConfig={"PageSize": 2},
        )
    )
    assert [len(p["Events"]) for p in pages] == [2, 2, 1]
    assert "NextToken" in pages[0] and "NextToken" not in pages[-1]
    seen = [record(e)["requestID"] for p in pages for e in p["Events"]]
    assert seen == made[::-1]

    attribute = [{"AttributeKey": "Username", "AttributeValue": "ct-pager"}]
    first = cloudtrail.lookup_events(LookupAttributes=attribute, MaxResults=3)
    rest = cloudtrail.lookup_events(LookupAttributes=attribute, MaxResults=3, NextToken=first["NextToken"])
    assert [record(e)["requestID"] for e in first["Events"] + rest["Events"]] == made[::-1]
    assert "NextToken" not in rest
    # a token belongs to its query: AWS refuses one "used in a request with different parameters"
    other = [{"AttributeKey": "Username", "AttributeValue": "ct-alice"}]
    error = refused(cloudtrail.lookup_events, LookupAttributes=other, NextToken=first["NextToken"])
    assert (error["Status"], error["Code"]) == (400, "InvalidNextTokenException")


def test_cloudtrails_errors(live: LiveServer, cloudtrail: Any) -> None:
    loose = live.client("cloudtrail", validate=False)
    two = [
        {"AttributeKey": "Username", "AttributeValue": "root"},
        {"AttributeKey": "EventName", "AttributeValue": "CreateUser"},
    ]
    now = live.clock.now
    cases: list[tuple[Any, dict[str, Any], str, str]] = [
        (
            cloudtrail,
            {"LookupAttributes": two},
            "InvalidLookupAttributesException",
            "only one lookup attribute",
        ),
        (
            loose,
            {"LookupAttributes": [{"AttributeKey": "UserName", "AttributeValue": "root"}]},
            "InvalidLookupAttributesException",
            "key is not valid",
        ),
        (
            cloudtrail,
            {"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]},
            "InvalidLookupAttributesException",
            "value is not valid",
        ),
        (
            loose,
            {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "x" * 2001}]},
            "InvalidLookupAttributesException",
            "value is not valid",
        ),
        (
            cloudtrail,
            {"StartTime": now, "EndTime": now - timedelta(seconds=1)},
            "InvalidTimeRangeException",
            "Start time cannot be after end time.",
        ),
        (loose, {"MaxResults": 0}, "InvalidMaxResultsException", "A max results value of 0 is invalid."),
        (loose, {"MaxResults": 51}, "InvalidMaxResultsException", "between 1 and 50"),
        (cloudtrail, {"NextToken": "not-a-token"}, "InvalidNextTokenException", "NextToken is not valid"),
        (cloudtrail, {"NextToken": "W10"}, "InvalidNextTokenException", "NextToken is not valid"),  # "[]"
        (cloudtrail, {"EventCategory": "management"}, "InvalidEventCategoryException", "insight"),
    ]
    for client, params, code, text in cases:
        error = refused(client.lookup_events, **params)
        assert (error["Status"], error["Code"]) == (400, code), (params, error)
        assert text in error["Message"], (params, error)
    # Insights events: rolehop records none, so asking for them is an empty answer
    assert cloudtrail.lookup_events(EventCategory="insight")["Events"] == []


def test_refusals_are_events_and_lookup_events_is_authorized(live: LiveServer, cloudtrail: Any) -> None:
    keys = new_user(live, "ct-nobody", policy=None)
    iam = live.client_for("iam", keys)
    denied = refused(iam.create_user, UserName="ct-never")
    assert denied["Code"] == "AccessDenied"
    lookup_denied = refused(live.client_for("cloudtrail", keys).lookup_events)
    assert lookup_denied["Code"] == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in lookup_denied["Message"]

    events = lookup_all(cloudtrail, "Username", "ct-nobody")
    assert [e["EventName"] for e in events] == ["LookupEvents", "CreateUser"]
    refusal = record(events[1])
    assert refusal["errorCode"] == "AccessDenied"
    assert refusal["errorMessage"] == denied["Message"]
    assert refusal["responseElements"] is None
    assert refusal["requestParameters"] == {"userName": "ct-never"}
    assert record(events[0])["eventSource"] == "cloudtrail.amazonaws.com"
    assert record(events[0])["errorMessage"] == lookup_denied["Message"]
    # a read-only user may look events up (ReadOnlyAccess allows cloudtrail:LookupEvents)
    reader = new_user(live, "ct-reader", policy="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert live.client_for("cloudtrail", reader).lookup_events(MaxResults=1)["Events"]


@pytest.fixture(scope="module")
def member(live: LiveServer) -> dict[str, Any]:
    """Account B, a member; an administrator of the management account (A) in B's access role."""
    orgs = live.organizations()
    status = orgs.create_account(Email="ct-member@example.com", AccountName="ct-member")[
        "CreateAccountStatus"
    ]
    account = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    keys = new_user(live, "ct-operator")
    assumed = live.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{account['AccountId']}:role/{ACCESS_ROLE}", RoleSessionName="ct-cross"
    )
    return {"account": account["AccountId"], "keys": keys, "assumed": assumed}


def test_cross_account_assume_role_is_in_both_accounts(
    live: LiveServer, cloudtrail: Any, member: Any
) -> None:
    a, b = live.account_id, member["account"]
    request = request_id(member["assumed"])
    creds = member["assumed"]["Credentials"]
    in_b = live.client_for("cloudtrail", creds)

    [mine] = by_request(lookup_all(cloudtrail, "EventName", "AssumeRole"), request)
    [theirs] = by_request(lookup_all(in_b, "EventName", "AssumeRole"), request)
    assert mine["recipientAccountId"] == a and theirs["recipientAccountId"] == b
    assert mine["sharedEventID"] == theirs["sharedEventID"]
    assert mine["eventID"] != theirs["eventID"]
    operator = live.client("iam").get_user(UserName="ct-operator")["User"]
    assert mine["userIdentity"]["type"] == "IAMUser"
    assert mine["userIdentity"]["arn"] == operator["Arn"]
    # the role's account sees the caller as an account and a principal ID (IAM User Guide's example)
    assert theirs["userIdentity"] == {"type": "AWSAccount", "principalId": operator["UserId"], "accountId": a}
    role_arn = f"arn:aws:iam::{b}:role/{ACCESS_ROLE}"
    assert (
        mine["resources"]
        == theirs["resources"]
        == [{"ARN": role_arn, "accountId": b, "type": "AWS::IAM::Role"}]
    )
    assert mine["responseElements"]["credentials"]["accessKeyId"] == creds["AccessKeyId"]


def test_each_account_sees_only_its_own_events(live: LiveServer, cloudtrail: Any, member: Any) -> None:
    a, b = live.account_id, member["account"]
    session = member["assumed"]["Credentials"]
    listed = live.client_for("iam", session).list_users()
    in_b = live.client_for("cloudtrail", session)

    b_events = lookup_all(in_b)
    assert b_events and {record(e)["recipientAccountId"] for e in b_events} == {b}
    assert by_request(b_events, request_id(listed))  # the session's own call, in B
    assert lookup_all(in_b, "Username", "ct-alice") == []  # A's events stay in A
    a_events = lookup_all(cloudtrail)
    assert {record(e)["recipientAccountId"] for e in a_events} == {a}
    assert not by_request(a_events, request_id(listed))
    # the management account's administrators cannot ask for B's events by their event ID either
    b_id = by_request(b_events, request_id(listed))[0]["eventID"]
    assert lookup_all(cloudtrail, "EventId", b_id) == []


def test_organization_view_is_the_management_accounts_opt_in(live: LiveServer, member: Any) -> None:
    """`lookup(organization=True)`, which the console's Event history page calls: every account's
    events for the management account, once the operator turns it on; refused otherwise."""
    rt = live.app.rt
    a, b = live.account_id, member["account"]

    def call(account: str) -> Call:
        caller = Caller(account, arn.root_arn(account), account, "root", ROOT_KEY if account == a else "")
        return Call(rt, caller, "org-view-test", live.clock.now, "cloudtrail", "us-east-1")

    def org_lookup(account: str) -> list[str]:
        events, _ = lookup(
            call(account),
            attribute="Username",
            value="ct-cross",
            start=None,
            end=None,
            category=None,
            max_results=50,
            next_token=None,
            organization=True,
        )
        return [e.event.account_id for e in events]

    with pytest.raises(OperationNotPermittedException):
        org_lookup(a)  # off by default
    before = rt.settings
    rt.settings = replace(before, audit_org_view=True)
    try:
        assert b in org_lookup(a)
        with pytest.raises(OperationNotPermittedException):
            org_lookup(b)  # a member account never sees the organization's events
    finally:
        rt.settings = before


def test_a_request_signed_for_another_service_is_refused(live: LiveServer) -> None:
    body = b"{}"
    request = AWSRequest(
        "POST",
        live.url + "/",
        data=body,
        headers={
            "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "organizations", "us-east-1").add_auth(request)
    answer = httpx.post(live.url + "/", content=body, headers=dict(request.headers))
    assert answer.status_code == 400
    assert answer.json() == {
        "__type": "InvalidSignatureException",
        "message": "Credential should be scoped to correct service: 'cloudtrail'.",
    }


def test_cloudtrail_throttles_with_its_own_code(tmp_path: Path, clock: FakeClock) -> None:
    """CloudTrail's throttling error is ThrottlingException (its API reference's common errors)."""
    live = LiveServer(tmp_path / "data", clock, rate_limit=1, rate_burst=2)
    try:
        cloudtrail = live.client("cloudtrail")
        cloudtrail.lookup_events(MaxResults=1)
        cloudtrail.lookup_events(MaxResults=1)
        error = refused(cloudtrail.lookup_events, MaxResults=1)
        assert (error["Status"], error["Code"]) == (400, "ThrottlingException")
    finally:
        live.stop()
