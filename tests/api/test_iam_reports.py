"""IAM's account-wide reports over the live API: the credential report (a CSV checked against what
the test did), GetAccountAuthorizationDetails (boto3 and the AWS CLI), GetAccountSummary,
ListPoliciesGrantingServiceAccess and the organizations access report."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from mfa_support import enroll
from trail_support import module_server

from support import LiveServer, aws_cli, management_operator, member_credentials

PASSWORD = "Correct-Horse-42!"
COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("reports") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def iam(live: LiveServer) -> Any:
    return live.client("iam")


def error_of(call: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def console_sign_in(live: LiveServer, user: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=live.url, follow_redirects=False) as http:
        page = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "no CSRF token in the sign-in page"
        form = {"account": live.account_id, "username": user, "password": password, "next": "/"}
        return http.post("/signin", data={"csrf_token": token.group(1), **form})


def stamp(at: Any) -> str:
    return str(at.replace(microsecond=0).isoformat())


def doc(*actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }
    )


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture(scope="module")
def estate(iam: Any) -> dict[str, str]:
    """Users, a group, a role and policies for GetAccountAuthorizationDetails and the access lists."""
    local = iam.create_policy(PolicyName="ad-local", PolicyDocument=doc("iam:ListUsers"))["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=local, PolicyDocument=doc("iam:ListUsers", "sts:*"), SetAsDefault=True
    )
    iam.create_group(GroupName="ad-group")
    iam.put_group_policy(
        GroupName="ad-group", PolicyName="group-inline", PolicyDocument=doc("organizations:*")
    )
    iam.attach_group_policy(GroupName="ad-group", PolicyArn=local)
    iam.create_user(
        UserName="ad-user",
        Tags=[{"Key": "team", "Value": "blue"}],
        PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    iam.add_user_to_group(GroupName="ad-group", UserName="ad-user")
    iam.put_user_policy(UserName="ad-user", PolicyName="user-inline", PolicyDocument=doc("iam:Get*"))
    iam.attach_user_policy(UserName="ad-user", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.create_role(RoleName="ad-role", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(
        RoleName="ad-role", PolicyName="role-inline", PolicyDocument=doc("sts:GetCallerIdentity")
    )
    return {"local": local}


def all_pages(iam: Any, **kwargs: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    marker: dict[str, str] = {}
    while True:
        page = iam.get_account_authorization_details(**kwargs, **marker)
        for section, items in found.items():
            items += page[section]
        if not page["IsTruncated"]:
            return found
        marker = {"Marker": page["Marker"]}


def test_authorization_details_hold_every_identity_and_policy(iam: Any, estate: dict[str, str]) -> None:
    details = iam.get_account_authorization_details()
    assert details["IsTruncated"] is False
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    user = users["ad-user"]
    assert user["GroupList"] == ["ad-group"]
    assert user["UserPolicyList"] == [
        {"PolicyName": "user-inline", "PolicyDocument": json.loads(doc("iam:Get*"))}
    ]
    assert user["AttachedManagedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}
    ]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert user["Tags"] == [{"Key": "team", "Value": "blue"}]
    group = {g["GroupName"]: g for g in details["GroupDetailList"]}["ad-group"]
    assert group["GroupPolicyList"][0]["PolicyName"] == "group-inline"
    assert group["AttachedManagedPolicies"] == [{"PolicyName": "ad-local", "PolicyArn": estate["local"]}]
    role = {r["RoleName"]: r for r in details["RoleDetailList"]}["ad-role"]
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert role["InstanceProfileList"] == [] and role["RoleLastUsed"] == {}
    assert role["RolePolicyList"][0]["PolicyName"] == "role-inline"
    policies = {x["Arn"]: x for x in details["Policies"]}
    local = policies[estate["local"]]
    assert [v["VersionId"] for v in local["PolicyVersionList"]] == ["v2", "v1"]
    assert [v["IsDefaultVersion"] for v in local["PolicyVersionList"]] == [True, False]
    assert local["PolicyVersionList"][0]["Document"] == json.loads(doc("iam:ListUsers", "sts:*"))
    assert local["AttachmentCount"] == 1
    # AWS-managed policies: those attached in the account (as a policy, not only as a boundary)
    aws = {a for a in policies if a.startswith("arn:aws:iam::aws:")}
    assert aws == {"arn:aws:iam::aws:policy/IAMReadOnlyAccess"}

    only = iam.get_account_authorization_details(Filter=["Role", "LocalManagedPolicy"])
    assert only["UserDetailList"] == [] and only["GroupDetailList"] == []
    assert {r["RoleName"] for r in only["RoleDetailList"]} == {
        r["RoleName"] for r in details["RoleDetailList"]
    }
    assert {x["Arn"] for x in only["Policies"]} == {a for a in policies if a not in aws}

    # paging one entry at a time across the sections gives the same listing
    paged = all_pages(iam, MaxItems=1)
    for section in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
        assert paged[section] == details[section]


def test_the_aws_cli_reads_authorization_details(
    live: LiveServer, estate: dict[str, str], tmp_path: Path
) -> None:
    done = aws_cli(live, tmp_path, "iam", "get-account-authorization-details", "--filter", "User", "Group")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert "ad-user" in {u["UserName"] for u in out["UserDetailList"]}
    assert {g["GroupName"] for g in out["GroupDetailList"]} == {"ad-group"}
    assert out["RoleDetailList"] == [] and out["Policies"] == []


def test_the_account_summary_has_every_key_aws_returns(iam: Any, estate: dict[str, str]) -> None:
    summary = iam.get_account_summary()["SummaryMap"]
    keys = iam.meta.service_model.shape_for("summaryKeyType").enum
    assert set(summary) == set(keys)
    assert summary["Users"] == len(iam.list_users()["Users"])
    assert summary["Groups"] == len(iam.list_groups()["Groups"])
    assert summary["Roles"] == len(iam.list_roles()["Roles"])
    local = iam.list_policies(Scope="Local")["Policies"]
    assert summary["Policies"] == len(local)
    versions = sum(len(iam.list_policy_versions(PolicyArn=x["Arn"])["Versions"]) for x in local)
    attached_aws = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert summary["PolicyVersionsInUse"] == versions + len(attached_aws)
    assert summary["VersionsPerPolicyQuota"] == 5 and summary["PolicySizeQuota"] == 6144
    assert summary["InstanceProfiles"] == 0 and summary["Providers"] == 0


def test_policies_granting_service_access_follow_the_statements(
    live: LiveServer, iam: Any, estate: dict[str, str]
) -> None:
    user = iam.get_user(UserName="ad-user")["User"]["Arn"]
    found = iam.list_policies_granting_service_access(
        Arn=user, ServiceNamespaces=["iam", "sts", "organizations", "s3"]
    )
    assert found["IsTruncated"] is False
    by_namespace = {e["ServiceNamespace"]: e["Policies"] for e in found["PoliciesGrantingServiceAccess"]}
    assert list(by_namespace) == ["iam", "sts", "organizations", "s3"]
    inline_user = {
        "PolicyName": "user-inline",
        "PolicyType": "INLINE",
        "EntityType": "USER",
        "EntityName": "ad-user",
    }
    inline_group = {
        "PolicyName": "group-inline",
        "PolicyType": "INLINE",
        "EntityType": "GROUP",
        "EntityName": "ad-group",
    }
    local = {"PolicyName": "ad-local", "PolicyType": "MANAGED", "PolicyArn": estate["local"]}
    aws_read = {
        "PolicyName": "IAMReadOnlyAccess",
        "PolicyType": "MANAGED",
        "PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    }
    assert (
        inline_user in by_namespace["iam"]
        and local in by_namespace["iam"]
        and aws_read in by_namespace["iam"]
    )
    assert inline_group not in by_namespace["iam"]
    assert by_namespace["sts"] == [local]  # its default version (v2) added sts:*
    assert by_namespace["organizations"] == [inline_group]
    assert by_namespace["s3"] == []  # the boundary (ReadOnlyAccess) is no permissions policy here

    # a NotAction statement grants every service it does not exclude entirely
    iam.put_role_policy(
        RoleName="ad-role",
        PolicyName="all-but-iam",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
            }
        ),
    )
    role = iam.get_role(RoleName="ad-role")["Role"]["Arn"]
    found = iam.list_policies_granting_service_access(Arn=role, ServiceNamespaces=["iam", "ec2"])
    names = {
        e["ServiceNamespace"]: [x["PolicyName"] for x in e["Policies"]]
        for e in found["PoliciesGrantingServiceAccess"]
    }
    assert names == {"iam": [], "ec2": ["all-but-iam"]}

    missing = f"arn:aws:iam::{live.account_id}:user/nobody-here"
    assert error_of(iam.list_policies_granting_service_access, Arn=missing, ServiceNamespaces=["iam"]) == (
        404,
        "NoSuchEntity",
    )
    policy_arn = estate["local"]
    assert error_of(iam.list_policies_granting_service_access, Arn=policy_arn, ServiceNamespaces=["iam"]) == (
        400,
        "InvalidInput",
    )


def test_the_organizations_access_report_follows_scps_and_member_activity(live: LiveServer, iam: Any) -> None:
    orgs = live.organizations()
    org_id = orgs.describe_organization()["Organization"]["Id"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = orgs.create_organizational_unit(ParentId=root, Name="reports-ou")["OrganizationalUnit"]["Id"]
    status = orgs.create_account(Email="oar@example.com", AccountName="oar")["CreateAccountStatus"]
    member = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"][
        "AccountId"
    ]
    orgs.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    operator = management_operator(live)
    creds = member_credentials(live, operator, member)
    live.clock.advance(10)
    live.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).list_users()
    listed_at = live.clock.now
    live.clock.advance(10)
    live.client(
        "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], region="eu-west-1"
    ).get_caller_identity()
    live.clock.advance(10)

    ou_path = f"{org_id}/{root}/{ou}"
    job = iam.generate_organizations_access_report(EntityPath=ou_path)["JobId"]
    report = iam.get_organizations_access_report(JobId=job)
    assert report["JobStatus"] == "COMPLETED"
    assert report["NumberOfServicesAccessible"] == 2 and report["NumberOfServicesNotAccessed"] == 2
    details = {d["ServiceNamespace"]: d for d in report["AccessDetails"]}
    assert list(details) == ["cloudtrail", "iam", "organizations", "sts"]  # by namespace, ascending
    assert details["iam"]["LastAuthenticatedTime"] == listed_at
    assert details["iam"]["EntityPath"] == f"{ou_path}/{member}"
    assert details["iam"]["TotalAuthenticatedEntities"] == 1
    assert details["sts"]["Region"] == "eu-west-1"
    assert "LastAuthenticatedTime" not in details["organizations"]
    assert details["organizations"]["TotalAuthenticatedEntities"] == 0
    newest_first = iam.get_organizations_access_report(
        JobId=job, SortKey="LAST_AUTHENTICATED_TIME_DESCENDING"
    )
    assert [d["ServiceNamespace"] for d in newest_first["AccessDetails"]][:2] == ["sts", "iam"]
    first = iam.get_organizations_access_report(JobId=job, MaxItems=1)
    assert first["IsTruncated"] is True and len(first["AccessDetails"]) == 1
    rest = iam.get_organizations_access_report(JobId=job, Marker=first["Marker"])
    assert [d["ServiceNamespace"] for d in rest["AccessDetails"]] == ["iam", "organizations", "sts"]

    # an SCP that allows IAM only, in place of FullAWSAccess on the OU
    iam_only = orgs.create_policy(
        Name="iam-only",
        Description="",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
        ),
    )["Policy"]["PolicySummary"]["Id"]
    named = iam.generate_organizations_access_report(EntityPath=ou_path, OrganizationsPolicyId=iam_only)[
        "JobId"
    ]
    assert [
        d["ServiceNamespace"] for d in iam.get_organizations_access_report(JobId=named)["AccessDetails"]
    ] == ["iam"]
    orgs.attach_policy(PolicyId=iam_only, TargetId=ou)
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou)
    narrowed = iam.generate_organizations_access_report(EntityPath=f"{ou_path}/{member}")["JobId"]
    only = iam.get_organizations_access_report(JobId=narrowed)
    assert [d["ServiceNamespace"] for d in only["AccessDetails"]] == ["iam"]
    assert only["NumberOfServicesAccessible"] == 1 and only["NumberOfServicesNotAccessed"] == 0

    # only its generator reads a job, and only through this operation
    operator_iam = live.client_for("iam", operator)
    assert error_of(operator_iam.get_organizations_access_report, JobId=job) == (404, "NoSuchEntity")
    assert error_of(iam.get_service_last_accessed_details, JobId=job) == (404, "NoSuchEntity")
    # a member account's job fails; a path outside the organization is refused
    member_iam = live.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    failed = member_iam.generate_organizations_access_report(EntityPath=ou_path)["JobId"]
    failure = member_iam.get_organizations_access_report(JobId=failed)
    assert failure["JobStatus"] == "FAILED" and failure["AccessDetails"] == []
    assert failure["ErrorDetails"]["Code"] == "AccessDenied"
    assert error_of(
        iam.generate_organizations_access_report, EntityPath=f"{org_id}/{root}/ou-zzzz-zzzzzzzz"
    ) == (400, "InvalidInput")


# last in the module: moves the shared clock four hours on (the AWS CLI signs with the real clock)
def test_the_credential_report_is_a_csv_of_what_the_account_did(live: LiveServer, iam: Any) -> None:
    assert error_of(iam.get_credential_report) == (410, "ReportNotPresent")
    iam.update_account_password_policy(MinimumPasswordLength=8, MaxPasswordAge=90)
    iam.create_user(UserName="cr-alice")
    iam.create_login_profile(UserName="cr-alice", Password=PASSWORD)
    password_set = live.clock.now
    live.clock.advance(10)
    assert console_sign_in(live, "cr-alice", PASSWORD).status_code == 303  # before MFA: no code asked
    signed_in = live.clock.now
    enroll(iam, "cr-alice", live.clock)
    live.clock.advance(10)
    first = iam.create_access_key(UserName="cr-alice")["AccessKey"]
    live.clock.advance(10)
    second = iam.create_access_key(UserName="cr-alice")["AccessKey"]
    iam.update_access_key(UserName="cr-alice", AccessKeyId=second["AccessKeyId"], Status="Inactive")
    live.clock.advance(10)
    alice = live.client("sts", first["AccessKeyId"], first["SecretAccessKey"], region="eu-west-1")
    alice.get_caller_identity()
    key_used = live.clock.now
    live.clock.advance(10)
    iam.create_user(UserName="cr-bob")
    iam.create_user(UserName="cr-carol")  # signed in once, then lost her password
    iam.create_login_profile(UserName="cr-carol", Password=PASSWORD)
    assert console_sign_in(live, "cr-carol", PASSWORD).status_code == 303
    iam.delete_login_profile(UserName="cr-carol")

    listed = {u["UserName"] for u in iam.list_users()["Users"]}
    generated = iam.generate_credential_report()
    assert generated["State"] == "STARTED"
    generated_at = live.clock.now
    live.clock.advance(60)
    assert iam.generate_credential_report()["State"] == "COMPLETE"  # within four hours: the same report
    iam.create_user(UserName="cr-late")  # after the report: not in it

    got = iam.get_credential_report()
    assert got["ReportFormat"] == "text/csv"
    assert got["GeneratedTime"] == generated_at
    rows = list(csv.reader(io.StringIO(got["Content"].decode())))
    assert rows[0] == COLUMNS
    by_user = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(by_user) == {"<root_account>"} | listed  # cr-late came after
    assert {"cr-alice", "cr-bob", "cr-carol"} <= listed
    assert rows[1][0] == "<root_account>"

    root = by_user["<root_account>"]
    assert root["arn"] == f"arn:aws:iam::{live.account_id}:root"
    assert root["password_enabled"] == "not_supported"
    assert root["password_last_changed"] == "not_supported"
    assert root["mfa_active"] == "false"
    assert root["access_key_1_active"] == "true"  # the server's root key, used by this test
    assert root["access_key_1_last_used_service"] == "iam"

    a = by_user["cr-alice"]
    user = iam.get_user(UserName="cr-alice")["User"]
    assert a["arn"] == user["Arn"]
    assert a["user_creation_time"] == stamp(user["CreateDate"])
    assert a["password_enabled"] == "true"
    assert a["password_last_used"] == stamp(signed_in)
    assert a["password_last_changed"] == stamp(password_set)
    assert a["password_next_rotation"] == stamp(password_set + timedelta(days=90))
    assert a["mfa_active"] == "true"
    assert a["access_key_1_active"] == "true"
    assert a["access_key_1_last_rotated"] == stamp(first["CreateDate"])
    assert a["access_key_1_last_used_date"] == stamp(key_used)
    assert a["access_key_1_last_used_region"] == "eu-west-1"
    assert a["access_key_1_last_used_service"] == "sts"
    assert a["access_key_2_active"] == "false"
    assert a["access_key_2_last_rotated"] == stamp(second["CreateDate"])
    assert a["access_key_2_last_used_date"] == "N/A"
    assert a["cert_1_active"] == "false" and a["cert_1_last_rotated"] == "N/A"

    carol = by_user["cr-carol"]
    assert carol["password_enabled"] == "false" and carol["password_last_used"] == "N/A"
    assert carol["password_last_changed"] == "N/A"

    b = by_user["cr-bob"]
    assert b["password_enabled"] == "false"
    assert b["password_last_used"] == "N/A"
    assert b["password_next_rotation"] == "N/A"
    assert b["mfa_active"] == "false"
    assert b["access_key_1_active"] == "false" and b["access_key_1_last_rotated"] == "N/A"

    # four hours on, the report has expired; a new one sees the later user
    live.clock.advance(4 * 3600)
    assert error_of(iam.get_credential_report) == (410, "ReportExpired")
    assert iam.generate_credential_report()["State"] == "STARTED"
    again = iam.get_credential_report()
    assert again["GeneratedTime"] == live.clock.now
    assert "cr-late" in {r[0] for r in csv.reader(io.StringIO(again["Content"].decode()))}


def test_a_user_without_permission_may_not_read_the_report(live: LiveServer, iam: Any) -> None:
    iam.create_user(UserName="cr-nobody")
    keys = iam.create_access_key(UserName="cr-nobody")["AccessKey"]
    nobody = live.client("iam", keys["AccessKeyId"], keys["SecretAccessKey"])
    assert error_of(nobody.generate_credential_report) == (403, "AccessDenied")
    assert error_of(nobody.get_credential_report) == (403, "AccessDenied")
