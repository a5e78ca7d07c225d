"""Every call is authorized by the one policy engine; denials read like AWS's."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import user_keys


def user_client(server, iam, name: str, service: str = "iam"):
    return server.client_for(service, user_keys(iam, name))


def denied(exc: pytest.ExceptionInfo[ClientError]) -> str:
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return str(exc.value.response["Error"]["Message"])


def test_user_without_policies_is_denied_with_awss_message(server, iam) -> None:
    keys = user_keys(iam, "alice")
    alice = server.client_for("iam", keys)
    with pytest.raises(ClientError) as exc:
        alice.list_users()
    account = server.account_id
    assert denied(exc) == (
        f"User: arn:aws:iam::{account}:user/alice is not authorized to perform: iam:ListUsers on resource: "
        f"arn:aws:iam::{account}:user/ because no identity-based policy allows the iam:ListUsers action"
    )
    # GetCallerIdentity needs no permission
    assert server.client_for("sts", keys).get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/alice"


def test_group_policy_grants_and_explicit_deny_wins(server, iam) -> None:
    bob = user_client(server, iam, "bob")
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="bob")
    iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert [u["UserName"] for u in bob.list_users()["Users"]] == ["bob"]
    with pytest.raises(ClientError) as exc:
        bob.create_user(UserName="mallory")
    assert "because no identity-based policy allows the iam:CreateUser action" in denied(exc)
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:List*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="bob", PolicyName="deny-list", PolicyDocument=json.dumps(deny))
    with pytest.raises(ClientError) as exc:
        bob.list_users()
    assert denied(exc).endswith("with an explicit deny in an identity-based policy")


def test_policy_variables_scope_a_user_to_itself(server, iam) -> None:
    own = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:*AccessKey*", "iam:GetUser"],
                "Resource": "arn:aws:iam::*:user/${aws:username}",
            }
        ],
    }
    carol = user_client(server, iam, "carol")
    iam.create_user(UserName="dave")
    iam.put_user_policy(UserName="carol", PolicyName="self", PolicyDocument=json.dumps(own))
    assert carol.get_user(UserName="carol")["User"]["UserName"] == "carol"
    assert carol.get_user()["User"]["UserName"] == "carol"
    assert len(carol.list_access_keys()["AccessKeyMetadata"]) == 1
    with pytest.raises(ClientError) as exc:
        carol.create_access_key(UserName="dave")
    denied(exc)
    assert iam.list_access_keys(UserName="dave")["AccessKeyMetadata"] == []


def test_permissions_boundary_caps_what_policies_grant(server, iam) -> None:
    erin = user_client(server, iam, "erin")
    iam.attach_user_policy(UserName="erin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_user_permissions_boundary(
        UserName="erin", PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    erin.list_users()
    with pytest.raises(ClientError) as exc:
        erin.create_group(GroupName="nope")
    assert "because no permissions boundary allows the iam:CreateGroup action" in denied(exc)
    iam.delete_user_permissions_boundary(UserName="erin")
    erin.create_group(GroupName="now-yes")


def test_denied_calls_change_nothing(server, iam) -> None:
    frank = user_client(server, iam, "frank")
    with pytest.raises(ClientError):
        frank.create_user(UserName="sneaky")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["frank"]
