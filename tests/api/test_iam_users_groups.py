"""IAM users, groups and membership through boto3 against a live server."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_get_list_delete_user(iam, server) -> None:
    created = iam.create_user(UserName="alice", Path="/staff/", Tags=[{"Key": "team", "Value": "platform"}])[
        "User"
    ]
    assert created["UserName"] == "alice"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Arn"] == f"arn:aws:iam::{server.account_id}:user/staff/alice"
    got = iam.get_user(UserName="alice")["User"]
    assert got["UserId"] == created["UserId"]
    assert got["Tags"] == [{"Key": "team", "Value": "platform"}]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]
    assert iam.list_users(PathPrefix="/other/")["Users"] == []
    iam.delete_user(UserName="alice")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName="alice")
    assert error_of(exc) == ("NoSuchEntity", 404)
    assert exc.value.response["Error"]["Message"] == "The user with name alice cannot be found."


def test_user_names_are_unique_ignoring_case(iam) -> None:
    iam.create_user(UserName="Bob")
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="bob")
    assert error_of(exc) == ("EntityAlreadyExists", 409)
    assert exc.value.response["Error"]["Message"] == "User with name bob already exists."
    assert iam.get_user(UserName="BOB")["User"]["UserName"] == "Bob"


def test_invalid_user_name_is_a_validation_error_and_changes_nothing(iam) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="no spaces allowed")
    assert error_of(exc) == ("ValidationError", 400)
    assert iam.list_users()["Users"] == []


def test_list_users_paginates_with_marker(iam) -> None:
    for i in range(7):
        iam.create_user(UserName=f"user{i}")
    first = iam.list_users(MaxItems=3)
    assert first["IsTruncated"] is True and len(first["Users"]) == 3
    second = iam.list_users(MaxItems=3, Marker=first["Marker"])
    third = iam.list_users(MaxItems=3, Marker=second["Marker"])
    assert third["IsTruncated"] is False
    names = [u["UserName"] for page in (first, second, third) for u in page["Users"]]
    assert names == [f"user{i}" for i in range(7)]
    paginated = [
        u["UserName"]
        for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
        for u in p["Users"]
    ]
    assert paginated == names


def test_update_user_renames_and_moves(iam, server) -> None:
    iam.create_user(UserName="carol")
    iam.update_user(UserName="carol", NewUserName="caroline", NewPath="/ops/")
    user = iam.get_user(UserName="caroline")["User"]
    assert user["Arn"] == f"arn:aws:iam::{server.account_id}:user/ops/caroline"


def test_groups_and_membership(iam) -> None:
    group = iam.create_group(GroupName="admins")["Group"]
    assert group["GroupId"].startswith("AGPA")
    iam.create_user(UserName="dave")
    iam.add_user_to_group(GroupName="admins", UserName="dave")
    got = iam.get_group(GroupName="admins")
    assert [u["UserName"] for u in got["Users"]] == ["dave"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dave")["Groups"]] == ["admins"]
    with pytest.raises(ClientError) as exc:
        iam.delete_group(GroupName="admins")
    assert error_of(exc) == ("DeleteConflict", 409)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName="dave")
    assert error_of(exc) == ("DeleteConflict", 409)
    iam.remove_user_from_group(GroupName="admins", UserName="dave")
    iam.delete_group(GroupName="admins")
    iam.delete_user(UserName="dave")
    assert iam.list_groups()["Groups"] == []


def test_user_tags(iam) -> None:
    iam.create_user(UserName="erin")
    iam.tag_user(UserName="erin", Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
    iam.tag_user(UserName="erin", Tags=[{"Key": "A", "Value": "one"}])
    assert iam.list_user_tags(UserName="erin")["Tags"] == [
        {"Key": "A", "Value": "one"},
        {"Key": "b", "Value": "2"},
    ]
    iam.untag_user(UserName="erin", TagKeys=["b"])
    assert iam.list_user_tags(UserName="erin")["Tags"] == [{"Key": "A", "Value": "one"}]


def test_account_alias(iam) -> None:
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias="aster-key")
    assert iam.list_account_aliases()["AccountAliases"] == ["aster-key"]
    iam.delete_account_alias(AccountAlias="aster-key")
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_unknown_action_is_invalid_action(server) -> None:
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from support import ROOT_KEY, ROOT_SECRET

    req = AWSRequest(
        "POST",
        server.url + "/",
        data=b"Action=NoSuchThing&Version=2010-05-08",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "iam", "us-east-1").add_auth(req)
    http = urllib.request.Request(server.url + "/", data=req.body, headers=dict(req.headers), method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(http)
    body = exc.value.read().decode()
    assert exc.value.code == 400
    assert "<Code>InvalidAction</Code>" in body and "<RequestId>" in body
    assert exc.value.headers["x-amzn-RequestId"]


def test_update_group_renames_and_needs_permission_on_the_new_name(iam, server) -> None:
    iam.create_group(GroupName="ops")
    iam.update_group(GroupName="ops", NewGroupName="operations", NewPath="/teams/")
    assert iam.get_group(GroupName="operations")["Group"]["Arn"].endswith(":group/teams/operations")
    only_old = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:UpdateGroup",
                    "Resource": f"arn:aws:iam::{server.account_id}:group/teams/operations",
                }
            ],
        }
    )
    iam.create_user(UserName="renamer")
    iam.put_user_policy(UserName="renamer", PolicyName="p", PolicyDocument=only_old)
    renamer = server.client_for("iam", iam.create_access_key(UserName="renamer")["AccessKey"])
    with pytest.raises(ClientError) as exc:
        renamer.update_group(GroupName="operations", NewGroupName="hijacked")
    assert error_of(exc) == ("AccessDenied", 403)
    assert iam.get_group(GroupName="operations")["Group"]["GroupName"] == "operations"
