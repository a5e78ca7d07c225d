"""Condition keys the server puts in every request's context, checked through real calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError


def allow(action: str, condition: dict[str, Any]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*", "Condition": condition}],
        }
    )


def user_with(server, iam, name: str, policy: str):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    return server.client_for("iam", iam.create_access_key(UserName=name)["AccessKey"])


def denied(call: Any) -> bool:
    try:
        call()
    except ClientError as e:
        return bool(e.response["Error"]["Code"] == "AccessDenied")
    return False


def test_request_tags_and_tag_keys(server, iam) -> None:
    creator = user_with(
        server,
        iam,
        "creator",
        allow(
            "iam:CreateUser",
            {
                "StringEquals": {"aws:RequestTag/team": "platform"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
            },
        ),
    )
    creator.create_user(UserName="tagged", Tags=[{"Key": "team", "Value": "platform"}])
    assert denied(lambda: creator.create_user(UserName="untagged"))
    assert denied(lambda: creator.create_user(UserName="other", Tags=[{"Key": "team", "Value": "sales"}]))
    assert denied(
        lambda: creator.create_user(
            UserName="extra", Tags=[{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": "x"}]
        )
    )


def test_resource_tags_of_users(server, iam) -> None:
    iam.create_user(UserName="mine", Tags=[{"Key": "team", "Value": "platform"}])
    iam.create_user(UserName="theirs", Tags=[{"Key": "team", "Value": "sales"}])
    reader = user_with(
        server, iam, "reader", allow("iam:GetUser", {"StringEquals": {"aws:ResourceTag/team": "platform"}})
    )
    assert reader.get_user(UserName="mine")["User"]["UserName"] == "mine"
    assert denied(lambda: reader.get_user(UserName="theirs"))


def test_policy_arn_condition_on_attach(server, iam) -> None:
    readonly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.create_user(UserName="target")
    delegate = user_with(
        server, iam, "delegate", allow("iam:AttachUserPolicy", {"ArnEquals": {"iam:PolicyARN": readonly}})
    )
    delegate.attach_user_policy(UserName="target", PolicyArn=readonly)
    assert denied(
        lambda: delegate.attach_user_policy(
            UserName="target", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
    )


def test_principal_org_id_and_principal_type(server, iam) -> None:
    # outside an organization the key is absent, so a condition on it fails
    before = user_with(
        server, iam, "before", allow("iam:ListUsers", {"Null": {"aws:PrincipalOrgID": "false"}})
    )
    assert denied(before.list_users)
    org_id = server.organizations().describe_organization()["Organization"]["Id"]
    before.list_users()
    member = user_with(
        server,
        iam,
        "member",
        allow("iam:ListUsers", {"StringEquals": {"aws:PrincipalOrgID": org_id, "aws:PrincipalType": "User"}}),
    )
    member.list_users()
    outsider = user_with(
        server, iam, "outsider", allow("iam:ListUsers", {"StringEquals": {"aws:PrincipalOrgID": "o-other"}})
    )
    assert denied(outsider.list_users)


def test_mfa_present_is_absent_for_long_term_keys_and_false_for_sessions(server, iam) -> None:
    policy = allow("iam:ListUsers", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=policy.replace('"Allow"', '"Deny"'))
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    keys = iam.create_access_key(UserName="u")["AccessKey"]
    # long-term key: the key is absent, BoolIfExists matches, the Deny applies
    assert denied(server.client_for("iam", keys).list_users)
    # a GetSessionToken session without MFA may not call IAM at all (AWS answers the token as invalid)
    creds = server.client_for("sts", keys).get_session_token()["Credentials"]
    with pytest.raises(ClientError) as exc:
        server.client_for("iam", creds).list_users()
    assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert server.client_for("sts", creds).get_caller_identity()["Arn"].endswith(":user/u")
    with pytest.raises(ClientError) as exc:
        server.client_for("sts", creds).get_access_key_info(AccessKeyId=keys["AccessKeyId"])
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
