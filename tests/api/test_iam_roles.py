"""IAM roles through boto3: lifecycle, trust policy, tags, boundaries, session duration."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


def trust(server) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_role_lifecycle(iam, server) -> None:
    role = iam.create_role(
        RoleName="deployer",
        Path="/ci/",
        AssumeRolePolicyDocument=trust(server),
        Description="deploys",
        MaxSessionDuration=7200,
    )["Role"]
    assert (
        role["RoleId"].startswith("AROA")
        and role["Arn"] == f"arn:aws:iam::{server.account_id}:role/ci/deployer"
    )
    got = iam.get_role(RoleName="deployer")["Role"]
    assert got["AssumeRolePolicyDocument"] == json.loads(trust(server))
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "deploys"
    iam.update_role(RoleName="deployer", MaxSessionDuration=3600, Description="new")
    assert iam.get_role(RoleName="deployer")["Role"]["MaxSessionDuration"] == 3600
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/ci/")["Roles"]] == ["deployer"]
    iam.attach_role_policy(RoleName="deployer", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName="deployer")
    assert code(exc) == "DeleteConflict"
    iam.detach_role_policy(RoleName="deployer", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_role(RoleName="deployer")
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName="deployer")
    assert code(exc) == "NoSuchEntity"


def test_trust_policy_is_validated_as_a_trust_policy(iam, server) -> None:
    with pytest.raises(ClientError) as exc:  # an identity policy is no trust policy
        iam.create_role(
            RoleName="r",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )
    assert code(exc) == "MalformedPolicyDocument"
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(server))
    with pytest.raises(ClientError) as exc:
        iam.update_assume_role_policy(RoleName="r", PolicyDocument="{not json")
    assert code(exc) == "MalformedPolicyDocument"
    assert iam.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"] == json.loads(trust(server))


def test_max_session_duration_bounds(server, iam) -> None:
    raw = server.client("iam", validate=False)
    for bad in (3599, 43201):
        with pytest.raises(ClientError) as exc:
            raw.create_role(RoleName="r", AssumeRolePolicyDocument=trust(server), MaxSessionDuration=bad)
        assert code(exc) == "ValidationError"
    assert iam.list_roles()["Roles"] == []


def test_role_tags_and_boundary(iam, server) -> None:
    iam.create_role(
        RoleName="tagged", AssumeRolePolicyDocument=trust(server), Tags=[{"Key": "env", "Value": "prod"}]
    )
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "team", "Value": "platform"}])
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == [
        {"Key": "env", "Value": "prod"},
        {"Key": "team", "Value": "platform"},
    ]
    iam.untag_role(RoleName="tagged", TagKeys=["env"])
    assert iam.get_role(RoleName="tagged")["Role"]["Tags"] == [{"Key": "team", "Value": "platform"}]
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.put_role_permissions_boundary(RoleName="tagged", PermissionsBoundary=boundary)
    assert (
        iam.get_role(RoleName="tagged")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    )
    iam.delete_role_permissions_boundary(RoleName="tagged")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="tagged")["Role"]


def test_a_boundary_set_on_creation_needs_its_own_permission(iam, server) -> None:
    only_create = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*"}],
        }
    )
    iam.create_user(UserName="maker")
    iam.put_user_policy(UserName="maker", PolicyName="p", PolicyDocument=only_create)
    maker = server.client_for("iam", iam.create_access_key(UserName="maker")["AccessKey"])
    with pytest.raises(ClientError) as exc:
        maker.create_role(
            RoleName="bounded",
            AssumeRolePolicyDocument=trust(server),
            PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess",
        )
    assert "iam:PutRolePermissionsBoundary" in exc.value.response["Error"]["Message"]
    maker.create_role(RoleName="plain", AssumeRolePolicyDocument=trust(server))
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["plain"]
