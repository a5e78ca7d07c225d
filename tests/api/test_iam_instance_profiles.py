"""IAM instance profiles and service-linked roles through boto3: lifecycle, the one-role quota,
DeleteConflict both ways, tags, paging, authorization (PassRole, tags, iam:AWSServiceName), and
the service-linked role's protection, deletion task and status."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from trail_support import module_server

from support import LiveServer, user_keys


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("profiles") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def iam(live: LiveServer) -> Any:
    return live.client("iam")


READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return str(exc.value.response["Error"]["Code"]), str(exc.value.response["Error"]["Message"])


def ec2_trust() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def test_instance_profile_lifecycle(iam: Any, live: LiveServer) -> None:
    account = live.account_id
    created = iam.create_instance_profile(
        InstanceProfileName="web", Path="/apps/", Tags=[{"Key": "team", "Value": "blue"}]
    )["InstanceProfile"]
    assert re.fullmatch(r"AIPA[A-Z2-7]{17}", created["InstanceProfileId"])
    assert created["Arn"] == f"arn:aws:iam::{account}:instance-profile/apps/web"
    assert created["Roles"] == [] and created["Tags"] == [{"Key": "team", "Value": "blue"}]
    with pytest.raises(ClientError) as exc:
        iam.create_instance_profile(InstanceProfileName="WEB")  # names are unique ignoring case
    assert error(exc) == ("EntityAlreadyExists", "Instance Profile WEB already exists.")

    role = iam.create_role(RoleName="web-role", AssumeRolePolicyDocument=ec2_trust())["Role"]
    iam.create_role(RoleName="other-role", AssumeRolePolicyDocument=ec2_trust())
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web-role")
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["Arn"] for r in got["Roles"]] == [role["Arn"]]
    assert got["Roles"][0]["RoleId"] == role["RoleId"] and "RoleLastUsed" not in got["Roles"][0]
    assert got["Tags"] == [{"Key": "team", "Value": "blue"}]

    with pytest.raises(ClientError) as exc:  # one role per instance profile
        iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="other-role")
    assert error(exc) == ("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")

    for_role = iam.list_instance_profiles_for_role(RoleName="web-role")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == ["web"]
    assert iam.list_instance_profiles_for_role(RoleName="other-role")["InstanceProfiles"] == []

    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName="web-role")
    assert error(exc) == (
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
    )
    with pytest.raises(ClientError) as exc:
        iam.delete_instance_profile(InstanceProfileName="web")
    assert error(exc)[0] == "DeleteConflict"

    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="web-role")
    with pytest.raises(ClientError) as exc:
        iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="web-role")
    assert error(exc)[0] == "NoSuchEntity"
    assert iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Roles"] == []
    iam.delete_role(RoleName="web-role")
    iam.delete_instance_profile(InstanceProfileName="web")
    with pytest.raises(ClientError) as exc:
        iam.get_instance_profile(InstanceProfileName="web")
    assert error(exc) == ("NoSuchEntity", "Instance Profile web cannot be found.")
    # a new profile of the same name starts with no tags
    assert "Tags" not in iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"] == []
    iam.delete_instance_profile(InstanceProfileName="web")
    iam.delete_role(RoleName="other-role")


def test_missing_profiles_and_roles(iam: Any) -> None:
    iam.create_instance_profile(InstanceProfileName="lonely")
    calls = [
        lambda: iam.delete_instance_profile(InstanceProfileName="nowhere"),
        lambda: iam.add_role_to_instance_profile(InstanceProfileName="nowhere", RoleName="x"),
        lambda: iam.add_role_to_instance_profile(InstanceProfileName="lonely", RoleName="no-such-role"),
        lambda: iam.remove_role_from_instance_profile(InstanceProfileName="lonely", RoleName="no-such-role"),
        lambda: iam.list_instance_profiles_for_role(RoleName="no-such-role"),
        lambda: iam.list_instance_profile_tags(InstanceProfileName="nowhere"),
        lambda: iam.tag_instance_profile(InstanceProfileName="nowhere", Tags=[{"Key": "k", "Value": "v"}]),
        lambda: iam.untag_instance_profile(InstanceProfileName="nowhere", TagKeys=["k"]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.create_instance_profile(InstanceProfileName="bad-path", Path="apps")
    assert error(exc)[0] == "ValidationError"
    iam.delete_instance_profile(InstanceProfileName="lonely")


def test_listing_by_path_prefix_and_pages(iam: Any) -> None:
    for name, path in [("b-prof", "/fleet/"), ("a-prof", "/fleet/"), ("c-prof", "/fleet/web/"), ("d", "/")]:
        iam.create_instance_profile(InstanceProfileName=name, Path=path)
    assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 4
    fleet = iam.list_instance_profiles(PathPrefix="/fleet/")
    assert [p["InstanceProfileName"] for p in fleet["InstanceProfiles"]] == ["a-prof", "b-prof", "c-prof"]
    assert all(p["Roles"] == [] and "Tags" not in p for p in fleet["InstanceProfiles"])
    first = iam.list_instance_profiles(PathPrefix="/fleet/", MaxItems=2)
    assert [p["InstanceProfileName"] for p in first["InstanceProfiles"]] == ["a-prof", "b-prof"]
    assert first["IsTruncated"]
    rest = iam.list_instance_profiles(PathPrefix="/fleet/", MaxItems=2, Marker=first["Marker"])
    assert [p["InstanceProfileName"] for p in rest["InstanceProfiles"]] == ["c-prof"]
    assert not rest["IsTruncated"]
    pages = iam.get_paginator("list_instance_profiles").paginate(PaginationConfig={"PageSize": 1})
    assert [p["InstanceProfileName"] for page in pages for p in page["InstanceProfiles"]] == [
        "a-prof",
        "b-prof",
        "c-prof",
        "d",
    ]
    for name in ["a-prof", "b-prof", "c-prof", "d"]:
        iam.delete_instance_profile(InstanceProfileName=name)


def test_instance_profile_tags(iam: Any) -> None:
    iam.create_instance_profile(InstanceProfileName="tagged", Tags=[{"Key": "Env", "Value": "dev"}])
    iam.tag_instance_profile(
        InstanceProfileName="tagged", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "ops"}]
    )
    tags = iam.list_instance_profile_tags(InstanceProfileName="tagged")["Tags"]
    assert tags == [
        {"Key": "env", "Value": "prod"},
        {"Key": "owner", "Value": "ops"},
    ]  # case-insensitive keys
    iam.untag_instance_profile(InstanceProfileName="tagged", TagKeys=["OWNER", "absent"])
    assert iam.list_instance_profile_tags(InstanceProfileName="tagged")["Tags"] == [
        {"Key": "env", "Value": "prod"}
    ]
    with pytest.raises(ClientError) as exc:
        iam.tag_instance_profile(
            InstanceProfileName="tagged", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
        )
    assert error(exc)[0] == "LimitExceeded"
    with pytest.raises(ClientError) as exc:
        iam.tag_instance_profile(
            InstanceProfileName="tagged", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
        )
    assert error(exc)[0] == "InvalidInput"
    iam.delete_instance_profile(InstanceProfileName="tagged")


def test_authorization_needs_pass_role_and_follows_tags(iam: Any, live: LiveServer) -> None:
    account = live.account_id
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=ec2_trust())
    iam.create_instance_profile(InstanceProfileName="app", Tags=[{"Key": "team", "Value": "blue"}])
    iam.create_instance_profile(InstanceProfileName="secret", Tags=[{"Key": "team", "Value": "red"}])
    keys = user_keys(iam, "operator")
    policy: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile"],
                "Resource": f"arn:aws:iam::{account}:instance-profile/*",
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}},
            },
            {"Effect": "Allow", "Action": "iam:CreateInstanceProfile", "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName="operator", PolicyName="p", PolicyDocument=json.dumps(policy))
    operator = live.client_for("iam", keys)

    assert operator.get_instance_profile(InstanceProfileName="app")["InstanceProfile"]["Roles"] == []
    with pytest.raises(ClientError) as exc:
        operator.get_instance_profile(InstanceProfileName="secret")
    assert error(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:  # putting a role in a profile passes it: iam:PassRole
        operator.add_role_to_instance_profile(InstanceProfileName="app", RoleName="app-role")
    code, message = error(exc)
    assert code == "AccessDenied" and "iam:PassRole" in message
    with pytest.raises(ClientError) as exc:  # a missing profile is only told to who may act on it
        operator.delete_instance_profile(InstanceProfileName="nowhere")
    assert error(exc)[0] == "AccessDenied"

    policy["Statement"].append(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{account}:role/app-role"}
    )
    iam.put_user_policy(UserName="operator", PolicyName="p", PolicyDocument=json.dumps(policy))
    operator.add_role_to_instance_profile(InstanceProfileName="app", RoleName="app-role")
    profile = iam.get_instance_profile(InstanceProfileName="app")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["app-role"]

    iam.remove_role_from_instance_profile(InstanceProfileName="app", RoleName="app-role")
    for name in ["app", "secret"]:
        iam.delete_instance_profile(InstanceProfileName=name)
    iam.delete_role(RoleName="app-role")


def test_service_linked_role(iam: Any, live: LiveServer) -> None:
    account = live.account_id
    role = iam.create_service_linked_role(
        AWSServiceName="elasticbeanstalk.amazonaws.com", Description="for Beanstalk"
    )["Role"]
    assert role["RoleName"] == "AWSServiceRoleForElasticBeanstalk"
    assert role["Path"] == "/aws-service-role/elasticbeanstalk.amazonaws.com/"
    assert role["Arn"] == (
        f"arn:aws:iam::{account}:role/aws-service-role/elasticbeanstalk.amazonaws.com/"
        "AWSServiceRoleForElasticBeanstalk"
    )
    got = iam.get_role(RoleName="AWSServiceRoleForElasticBeanstalk")["Role"]
    assert got["Description"] == "for Beanstalk"
    assert got["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "elasticbeanstalk.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]] == [
        "AWSServiceRoleForElasticBeanstalk"
    ]

    with pytest.raises(ClientError) as exc:
        iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")
    assert error(exc) == (
        "InvalidInput",
        "Service role name AWSServiceRoleForElasticBeanstalk has been taken in this account, "
        "please try a different suffix.",
    )
    custom = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="fleet")
    assert custom["Role"]["RoleName"] == "AWSServiceRoleForAutoScaling_fleet"
    plain = iam.create_service_linked_role(AWSServiceName="replication.dynamodb.amazonaws.com")
    assert plain["Role"]["RoleName"] == "AWSServiceRoleForReplication"
    # the model's pattern refuses spaces (ValidationError); a name outside amazonaws.com is no service
    for bad, code in [("not a service", "ValidationError"), ("example.com", "InvalidInput")]:
        with pytest.raises(ClientError) as exc:
            iam.create_service_linked_role(AWSServiceName=bad)
        assert error(exc)[0] == code
    with pytest.raises(ClientError) as exc:  # customers cannot make roles under AWS's path
        iam.create_role(RoleName="fake", Path="/aws-service-role/x/", AssumeRolePolicyDocument=ec2_trust())
    assert error(exc)[0] == "InvalidInput"

    # ordinary writes refuse it
    name = "AWSServiceRoleForElasticBeanstalk"
    iam.create_instance_profile(InstanceProfileName="beanstalk")
    refused = [
        lambda: iam.delete_role(RoleName=name),
        lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=ec2_trust()),
        lambda: iam.update_role(RoleName=name, MaxSessionDuration=7200),
        lambda: iam.add_role_to_instance_profile(InstanceProfileName="beanstalk", RoleName=name),
        lambda: iam.remove_role_from_instance_profile(InstanceProfileName="beanstalk", RoleName=name),
        lambda: iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=ALLOW_ALL),
        lambda: iam.delete_role_policy(RoleName=name, PolicyName="p"),
        lambda: iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY),
        lambda: iam.detach_role_policy(RoleName=name, PolicyArn=READ_ONLY),
        lambda: iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=READ_ONLY),
        lambda: iam.delete_role_permissions_boundary(RoleName=name),
    ]
    for call in refused:
        with pytest.raises(ClientError) as exc:
            call()
        code, message = error(exc)
        assert code == "UnmodifiableEntity" and f"protected role '{name}'" in message
    iam.update_role_description(RoleName=name, Description="edited")  # the description may change
    iam.update_role(RoleName=name, Description="edited again")
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "edited again"
    role_now = iam.get_role(RoleName=name)["Role"]
    assert role_now["MaxSessionDuration"] == 3600 and "PermissionsBoundary" not in role_now
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    iam.delete_instance_profile(InstanceProfileName="beanstalk")


def test_service_linked_role_deletion(iam: Any, live: LiveServer) -> None:
    iam.create_service_linked_role(AWSServiceName="support.amazonaws.com")
    task_id = iam.delete_service_linked_role(RoleName="AWSServiceRoleForSupport")["DeletionTaskId"]
    assert re.fullmatch(
        r"task/aws-service-role/support\.amazonaws\.com/AWSServiceRoleForSupport/[0-9a-f-]{36}", task_id
    )
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task_id)
    assert status["Status"] == "SUCCEEDED" and "Reason" not in status
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName="AWSServiceRoleForSupport")
    assert error(exc)[0] == "NoSuchEntity"
    # the name is free again
    iam.create_service_linked_role(AWSServiceName="support.amazonaws.com")

    with pytest.raises(ClientError) as exc:
        iam.delete_service_linked_role(RoleName="no-such-role")
    assert error(exc)[0] == "NoSuchEntity"
    iam.create_role(RoleName="ordinary", AssumeRolePolicyDocument=ec2_trust())
    with pytest.raises(ClientError) as exc:
        iam.delete_service_linked_role(RoleName="ordinary")
    assert error(exc)[0] == "InvalidInput"
    assert iam.get_role(RoleName="ordinary")["Role"]["RoleName"] == "ordinary"
    iam.delete_role(RoleName="ordinary")

    with pytest.raises(ClientError) as exc:
        iam.get_service_linked_role_deletion_status(DeletionTaskId="task/nonsense")
    assert error(exc)[0] == "InvalidInput"
    unknown = task_id[: -len("00000000-0000-0000-0000-000000000000")] + "00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as exc:
        iam.get_service_linked_role_deletion_status(DeletionTaskId=unknown)
    assert error(exc)[0] == "NoSuchEntity"


def test_service_linked_role_authorization(iam: Any, live: LiveServer) -> None:
    account = live.account_id
    keys = user_keys(iam, "slr-admin")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": "lex.amazonaws.com"}},
            },
            {
                "Effect": "Allow",
                "Action": ["iam:DeleteServiceLinkedRole", "iam:GetServiceLinkedRoleDeletionStatus"],
                "Resource": f"arn:aws:iam::{account}:role/aws-service-role/lex.amazonaws.com/*",
            },
        ],
    }
    iam.put_user_policy(UserName="slr-admin", PolicyName="p", PolicyDocument=json.dumps(policy))
    admin = live.client_for("iam", keys)
    assert admin.create_service_linked_role(AWSServiceName="lex.amazonaws.com")["Role"]["RoleName"] == (
        "AWSServiceRoleForLex"
    )
    with pytest.raises(ClientError) as exc:
        admin.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    assert error(exc)[0] == "AccessDenied"
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        admin.delete_service_linked_role(RoleName="AWSServiceRoleForECS")
    assert error(exc)[0] == "AccessDenied"
    task_id = admin.delete_service_linked_role(RoleName="AWSServiceRoleForLex")["DeletionTaskId"]
    assert admin.get_service_linked_role_deletion_status(DeletionTaskId=task_id)["Status"] == "SUCCEEDED"
    ecs_task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForECS")["DeletionTaskId"]
    with pytest.raises(ClientError) as exc:
        admin.get_service_linked_role_deletion_status(DeletionTaskId=ecs_task)
    assert error(exc)[0] == "AccessDenied"
