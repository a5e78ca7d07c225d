"""Last used, from the audit trail, over the live API: GetAccessKeyLastUsed, GetRole's RoleLastUsed,
GetUser's and ListUsers' PasswordLastUsed (a console sign-in over plain HTTP), and IAM's service last
accessed reports (GenerateServiceLastAccessedDetails and its two readers) for a user, a role, a group
and a managed policy; paging, errors, and the AWS CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from trail_support import module_server

from support import ROOT_KEY, ROOT_SECRET, LiveServer

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
PASSWORD = "Correct-Horse-42!"
LISTS_AND_STS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:List*", "sts:GetCallerIdentity"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},  # a service rolehop does not serve
        ],
    }
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("last_used") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def iam(live: LiveServer) -> Any:
    return live.client("iam")


def trust(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def new_user(iam: Any, name: str, policy: str | None = None) -> dict[str, str]:
    iam.create_user(UserName=name)
    if policy:
        iam.attach_user_policy(UserName=name, PolicyArn=policy)
    keys: dict[str, str] = iam.create_access_key(UserName=name)["AccessKey"]
    return keys


def as_user(live: LiveServer, service: str, keys: dict[str, str], region: str = "us-east-1") -> Any:
    return live.client(service, keys["AccessKeyId"], keys["SecretAccessKey"], region=region)


def error_of(call: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def console_sign_in(live: LiveServer, user: str, password: str) -> httpx.Response:
    """The console's sign-in form, posted as a browser would (its CSRF token from the page)."""
    with httpx.Client(base_url=live.url, follow_redirects=False) as http:
        page = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "no CSRF token in the sign-in page"
        form = {"account": live.account_id, "username": user, "password": password, "next": "/"}
        return http.post("/signin", data={"csrf_token": token.group(1), **form})


def report(iam: Any, job_id: str, **kwargs: Any) -> dict[str, Any]:
    found: dict[str, Any] = iam.get_service_last_accessed_details(JobId=job_id, **kwargs)
    return found


def by_namespace(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["ServiceNamespace"]: s for s in found["ServicesLastAccessed"]}


def test_the_aws_cli_generates_and_reads_a_report(live: LiveServer, iam: Any, tmp_path: Path) -> None:
    """`aws iam generate-service-last-accessed-details` and `get-service-last-accessed-details`."""
    keys = new_user(iam, "lu-cli", ADMIN)
    as_user(live, "iam", keys).list_users()
    user_arn = iam.get_user(UserName="lu-cli")["User"]["Arn"]
    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": ROOT_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = str(Path(sys.executable).parent / "aws")

    def cli(*args: str) -> Any:
        done = subprocess.run(
            [aws, "iam", *args, "--endpoint-url", live.url, "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    job = cli("generate-service-last-accessed-details", "--arn", user_arn)["JobId"]
    found = cli("get-service-last-accessed-details", "--job-id", job)
    assert found["JobStatus"] == "COMPLETED" and found["JobType"] == "SERVICE_LEVEL"
    services = {s["ServiceNamespace"]: s for s in found["ServicesLastAccessed"]}
    assert set(services) == {"cloudtrail", "iam", "organizations", "sts"}  # what AdministratorAccess allows
    assert services["iam"]["LastAuthenticatedEntity"] == user_arn
    assert services["iam"]["ServiceName"] == "AWS Identity and Access Management"
    assert services["organizations"]["TotalAuthenticatedEntities"] == 0
    assert "LastAuthenticated" not in services["organizations"]


def test_an_access_keys_last_use_names_the_service_and_region_of_its_newest_request(
    live: LiveServer, iam: Any
) -> None:
    keys = new_user(iam, "lu-key")
    unused = iam.get_access_key_last_used(AccessKeyId=keys["AccessKeyId"])
    assert unused["UserName"] == "lu-key"
    assert unused["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}

    live.clock.advance(5)
    as_user(live, "sts", keys, region="eu-west-1").get_caller_identity()
    first = live.clock.now
    live.clock.advance(60)
    used = iam.get_access_key_last_used(AccessKeyId=keys["AccessKeyId"])["AccessKeyLastUsed"]
    assert used == {"LastUsedDate": first, "ServiceName": "sts", "Region": "eu-west-1"}

    # a refused request was still made with the key: it is the key's last use
    assert error_of(as_user(live, "iam", keys, region="us-west-2").list_users) == (403, "AccessDenied")
    used = iam.get_access_key_last_used(AccessKeyId=keys["AccessKeyId"])["AccessKeyLastUsed"]
    assert used == {"LastUsedDate": live.clock.now, "ServiceName": "iam", "Region": "us-west-2"}
    # reading the last use is no use of the key read about
    live.clock.advance(60)
    assert iam.get_access_key_last_used(AccessKeyId=keys["AccessKeyId"])["AccessKeyLastUsed"] == used


def test_a_roles_last_use_is_the_newest_request_made_with_a_session_of_it(live: LiveServer, iam: Any) -> None:
    role = iam.create_role(RoleName="lu-role", AssumeRolePolicyDocument=trust(live.account_id))["Role"]
    assert "RoleLastUsed" not in role  # CreateRole does not return it
    assert iam.get_role(RoleName="lu-role")["Role"]["RoleLastUsed"] == {}
    assumer = new_user(iam, "lu-assumer", ADMIN)
    live.clock.advance(5)
    creds = as_user(live, "sts", assumer).assume_role(RoleArn=role["Arn"], RoleSessionName="lu-s")[
        "Credentials"
    ]
    assert iam.get_role(RoleName="lu-role")["Role"]["RoleLastUsed"] == {}  # assuming it is the user's request

    live.clock.advance(5)
    session = live.client(
        "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], "ap-south-1"
    )
    session.get_caller_identity()
    used_at = live.clock.now
    live.clock.advance(30)
    last = iam.get_role(RoleName="lu-role")["Role"]["RoleLastUsed"]
    assert last == {"LastUsedDate": used_at, "Region": "ap-south-1"}
    listed = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == "lu-role"]
    assert listed and "RoleLastUsed" not in listed[0]  # ListRoles does not return it


def test_a_passwords_last_use_is_the_users_last_console_sign_in(live: LiveServer, iam: Any) -> None:
    iam.create_user(UserName="lu-pat")
    iam.create_login_profile(UserName="lu-pat", Password=PASSWORD)
    iam.create_user(UserName="lu-pat-never")
    assert "PasswordLastUsed" not in iam.get_user(UserName="lu-pat")["User"]

    live.clock.advance(5)
    refused = console_sign_in(live, "lu-pat", "Wrong-Horse-42!")
    assert refused.status_code != 303
    assert "PasswordLastUsed" not in iam.get_user(UserName="lu-pat")["User"]  # a failed sign-in is no use

    live.clock.advance(5)
    signed_in = console_sign_in(live, "lu-pat", PASSWORD)
    assert signed_in.status_code == 303, signed_in.text
    at = live.clock.now
    live.clock.advance(60)
    assert iam.get_user(UserName="lu-pat")["User"]["PasswordLastUsed"] == at
    listed = {u["UserName"]: u for u in iam.list_users()["Users"]}
    assert listed["lu-pat"]["PasswordLastUsed"] == at
    assert "PasswordLastUsed" not in listed["lu-pat-never"]
    # AWS: a user without a password now still shows when the last one was used
    iam.delete_login_profile(UserName="lu-pat")
    assert iam.get_user(UserName="lu-pat")["User"]["PasswordLastUsed"] == at


@pytest.fixture(scope="module")
def team(live: LiveServer, iam: Any) -> dict[str, Any]:
    """A group (two members) and a role, both holding one customer managed policy that allows IAM's
    List* actions and sts:GetCallerIdentity; each member and the role's session use them."""
    policy = iam.create_policy(PolicyName="lu-lists", PolicyDocument=LISTS_AND_STS)["Policy"]
    iam.create_group(GroupName="lu-team")
    iam.attach_group_policy(GroupName="lu-team", PolicyArn=policy["Arn"])
    first, second = new_user(iam, "lu-first"), new_user(iam, "lu-second")
    for name in ("lu-first", "lu-second"):
        iam.add_user_to_group(GroupName="lu-team", UserName=name)
    role = iam.create_role(RoleName="lu-reader", AssumeRolePolicyDocument=trust(live.account_id))["Role"]
    iam.attach_role_policy(RoleName="lu-reader", PolicyArn=policy["Arn"])
    assumer = new_user(iam, "lu-team-assumer", ADMIN)

    times: dict[str, datetime] = {}
    live.clock.advance(10)
    as_user(live, "iam", first).list_users()
    times["first-iam"] = live.clock.now
    live.clock.advance(10)
    as_user(live, "iam", second, region="eu-west-1").list_groups()
    times["second-iam"] = live.clock.now
    live.clock.advance(10)
    as_user(live, "sts", second).get_caller_identity()
    times["second-sts"] = live.clock.now
    live.clock.advance(10)
    creds = as_user(live, "sts", assumer).assume_role(RoleArn=role["Arn"], RoleSessionName="lu-r")[
        "Credentials"
    ]
    session = live.client(
        "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], "us-east-2"
    )
    # a refused attempt counts, as AWS counts every attempt
    assert error_of(session.create_user, UserName="lu-never") == (403, "AccessDenied")
    times["role-iam"] = live.clock.now
    live.clock.advance(10)
    users = {u["UserName"]: u for u in iam.list_users()["Users"]}
    return {
        "policy": policy["Arn"],
        "group": iam.get_group(GroupName="lu-team")["Group"],
        "role": role,
        "first": users["lu-first"],
        "second": users["lu-second"],
        "times": times,
    }


def test_a_users_report_lists_the_services_its_policies_allow(live: LiveServer, iam: Any, team: Any) -> None:
    first, times = team["first"], team["times"]
    created = live.clock.now
    job = iam.generate_service_last_accessed_details(Arn=first["Arn"])["JobId"]
    live.clock.advance(3)
    found = report(iam, job)
    assert found["JobStatus"] == "COMPLETED" and found["JobType"] == "SERVICE_LEVEL"
    assert found["JobCreationDate"] == created and found["JobCompletionDate"] == live.clock.now
    assert found["IsTruncated"] is False
    # the group's policy: IAM and STS (no S3, which rolehop does not serve), by namespace
    assert [s["ServiceNamespace"] for s in found["ServicesLastAccessed"]] == ["iam", "sts"]
    services = by_namespace(found)
    assert services["iam"] == {
        "ServiceName": "AWS Identity and Access Management",
        "ServiceNamespace": "iam",
        "LastAuthenticated": times["first-iam"],
        "LastAuthenticatedEntity": first["Arn"],
        "LastAuthenticatedRegion": "us-east-1",
        "TotalAuthenticatedEntities": 1,
    }
    assert services["sts"] == {
        "ServiceName": "AWS Security Token Service",
        "ServiceNamespace": "sts",
        "TotalAuthenticatedEntities": 0,
    }
    # the report is fixed when completed: a later use shows in a new report only
    live.clock.advance(5)
    as_user(live, "iam", iam.create_access_key(UserName="lu-first")["AccessKey"]).list_groups()
    assert by_namespace(report(iam, job))["iam"]["LastAuthenticated"] == times["first-iam"]
    again = iam.generate_service_last_accessed_details(Arn=first["Arn"])["JobId"]
    assert by_namespace(report(iam, again))["iam"]["LastAuthenticated"] == live.clock.now
    # an entity's own report lists it as its entity
    entities = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="iam")
    assert [e["EntityInfo"]["Arn"] for e in entities["EntityDetailsList"]] == [first["Arn"]]
    # a user without policies could access nothing
    nobody = iam.get_user(UserName="lu-key")["User"]["Arn"]
    empty = report(iam, iam.generate_service_last_accessed_details(Arn=nobody)["JobId"])
    assert empty["ServicesLastAccessed"] == [] and empty["JobStatus"] == "COMPLETED"


def test_a_groups_report_counts_its_members_with_their_actions(iam: Any, team: Any) -> None:
    first, second, times = team["first"], team["second"], team["times"]
    job = iam.generate_service_last_accessed_details(Arn=team["group"]["Arn"], Granularity="ACTION_LEVEL")[
        "JobId"
    ]
    found = report(iam, job)
    assert found["JobType"] == "ACTION_LEVEL"
    services = by_namespace(found)
    iam_service = services["iam"]
    assert iam_service["TotalAuthenticatedEntities"] == 2
    # the newest member's use (lu-first's own report above made one more of its own since)
    assert iam_service["LastAuthenticatedEntity"] == first["Arn"]
    actions = {a["ActionName"]: a for a in iam_service["TrackedActionsLastAccessed"]}
    assert actions["ListUsers"] == {
        "ActionName": "ListUsers",
        "LastAccessedEntity": first["Arn"],
        "LastAccessedTime": times["first-iam"],
        "LastAccessedRegion": "us-east-1",
    }
    assert actions["ListRoles"] == {"ActionName": "ListRoles"}  # allowed, never used
    assert "CreateUser" not in actions  # not allowed by the group's policy
    assert services["sts"]["LastAuthenticated"] == times["second-sts"]
    assert services["sts"]["LastAuthenticatedEntity"] == second["Arn"]
    assert [a["ActionName"] for a in services["sts"]["TrackedActionsLastAccessed"]] == ["GetCallerIdentity"]

    details = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="sts")
    assert details["JobStatus"] == "COMPLETED"
    listed = details["EntityDetailsList"]
    assert [e["EntityInfo"]["Name"] for e in listed] == ["lu-second", "lu-first"]  # newest first
    assert listed[0]["LastAuthenticated"] == times["second-sts"] and "LastAuthenticated" not in listed[1]
    assert listed[0]["EntityInfo"] == {
        "Arn": second["Arn"],
        "Name": "lu-second",
        "Type": "USER",
        "Id": second["UserId"],
        "Path": "/",
    }
    # a service the group could not access has no entity that used it
    assert (
        iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="organizations")[
            "EntityDetailsList"
        ]
        == []
    )


def test_a_roles_and_a_policys_reports(iam: Any, team: Any) -> None:
    role, times = team["role"], team["times"]
    role_report = by_namespace(
        report(iam, iam.generate_service_last_accessed_details(Arn=role["Arn"])["JobId"])
    )
    assert role_report["iam"]["LastAuthenticatedEntity"] == role["Arn"]  # the role, not its session
    assert role_report["iam"]["LastAuthenticated"] == times["role-iam"]
    assert role_report["iam"]["LastAuthenticatedRegion"] == "us-east-2"

    job = iam.generate_service_last_accessed_details(Arn=team["policy"])["JobId"]
    policy_report = by_namespace(report(iam, job))
    assert set(policy_report) == {"iam", "sts"}
    assert policy_report["iam"]["TotalAuthenticatedEntities"] == 3  # two members and the role
    details = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="iam")
    holders = {e["EntityInfo"]["Name"]: e for e in details["EntityDetailsList"]}
    assert {(name, e["EntityInfo"]["Type"]) for name, e in holders.items()} == {
        ("lu-team", "GROUP"),
        ("lu-reader", "ROLE"),
    }
    assert holders["lu-reader"]["LastAuthenticated"] == times["role-iam"]
    # an AWS managed policy's report covers this account's holders of it
    admin = by_namespace(report(iam, iam.generate_service_last_accessed_details(Arn=ADMIN)["JobId"]))
    assert set(admin) == {"cloudtrail", "iam", "organizations", "sts"}
    assert admin["sts"]["TotalAuthenticatedEntities"] >= 1  # lu-assumer's AssumeRole


def test_reports_page_with_max_items_and_marker(iam: Any, team: Any) -> None:
    job = iam.generate_service_last_accessed_details(Arn=team["policy"])["JobId"]
    first = report(iam, job, MaxItems=1)
    assert [s["ServiceNamespace"] for s in first["ServicesLastAccessed"]] == ["iam"] and first["IsTruncated"]
    rest = report(iam, job, MaxItems=1, Marker=first["Marker"])
    assert [s["ServiceNamespace"] for s in rest["ServicesLastAccessed"]] == ["sts"]
    assert rest["IsTruncated"] is False and "Marker" not in rest

    pages = []
    marker: dict[str, str] = {}
    while True:
        page = iam.get_service_last_accessed_details_with_entities(
            JobId=job, ServiceNamespace="iam", MaxItems=1, **marker
        )
        pages.append([e["EntityInfo"]["Name"] for e in page["EntityDetailsList"]])
        if not page["IsTruncated"]:
            break
        marker = {"Marker": page["Marker"]}
    assert sorted(pages) == [["lu-reader"], ["lu-team"]]


def test_report_errors_and_authorization(live: LiveServer, iam: Any, team: Any) -> None:
    account = live.account_id
    generate = iam.generate_service_last_accessed_details
    assert error_of(generate, Arn=f"arn:aws:iam::{account}:user/lu-nobody") == (404, "NoSuchEntity")
    assert error_of(generate, Arn=f"arn:aws:iam::{account}:policy/lu-none") == (404, "NoSuchEntity")
    assert error_of(generate, Arn=f"arn:aws:iam::{account}:user/other-path/lu-first") == (404, "NoSuchEntity")
    assert error_of(generate, Arn="arn:aws:s3:::a-bucket-of-mine") == (400, "InvalidInput")
    assert error_of(generate, Arn=f"arn:aws:iam::{account}:mfa/lu-first") == (400, "InvalidInput")
    unknown = "11111111-2222-4333-8444-555555555555"
    assert error_of(iam.get_service_last_accessed_details, JobId=unknown) == (404, "NoSuchEntity")
    assert error_of(iam.get_service_last_accessed_details, JobId="x" * 36) == (400, "InvalidInput")
    job = generate(Arn=team["first"]["Arn"])["JobId"]
    assert error_of(iam.get_service_last_accessed_details, JobId=job, Marker="not-a-marker") == (
        400,
        "InvalidInput",
    )
    assert error_of(
        iam.get_service_last_accessed_details_with_entities, JobId=unknown, ServiceNamespace="iam"
    ) == (404, "NoSuchEntity")

    # only who generated a job reads it
    admin = as_user(live, "iam", new_user(iam, "lu-other-admin", ADMIN))
    assert error_of(admin.get_service_last_accessed_details, JobId=job) == (404, "NoSuchEntity")
    assert (
        admin.get_service_last_accessed_details(
            JobId=admin.generate_service_last_accessed_details(Arn=team["first"]["Arn"])["JobId"]
        )["JobStatus"]
        == "COMPLETED"
    )
    # the actions are authorized on the entity (Generate) and on "*" (Get)
    narrow = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:GenerateServiceLastAccessedDetails",
                    "Resource": team["first"]["Arn"],
                }
            ],
        }
    )
    keys = new_user(iam, "lu-narrow")
    iam.put_user_policy(UserName="lu-narrow", PolicyName="narrow", PolicyDocument=narrow)
    limited = as_user(live, "iam", keys)
    mine = limited.generate_service_last_accessed_details(Arn=team["first"]["Arn"])["JobId"]
    assert error_of(limited.generate_service_last_accessed_details, Arn=team["second"]["Arn"]) == (
        403,
        "AccessDenied",
    )
    assert error_of(limited.get_service_last_accessed_details, JobId=mine) == (403, "AccessDenied")

    # an entity deleted before its job ran: the job failed, and says why
    iam.create_user(UserName="lu-gone")
    gone = generate(Arn=iam.get_user(UserName="lu-gone")["User"]["Arn"])["JobId"]
    iam.delete_user(UserName="lu-gone")
    failed = report(iam, gone)
    assert failed["JobStatus"] == "FAILED" and failed["ServicesLastAccessed"] == []
    assert failed["Error"]["Code"] == "NoSuchEntity"


def test_jobs_expire_after_seven_days(live: LiveServer, iam: Any, team: Any) -> None:
    """Last in the module: it moves the clock a week on."""
    job = iam.generate_service_last_accessed_details(Arn=team["first"]["Arn"])["JobId"]
    live.clock.advance(7 * 86400 - 1)
    assert report(iam, job)["JobStatus"] == "COMPLETED"
    live.clock.advance(2)
    assert error_of(iam.get_service_last_accessed_details, JobId=job) == (404, "NoSuchEntity")
