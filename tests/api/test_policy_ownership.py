"""Whose managed policies an identity may hold (issue 15, finding 1): AWS-managed ones and its own
account's, nothing else. Another account's policy answers exactly as a policy that does not exist, so
no answer tells which policy names another account holds; session policies obey the same rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rolehop.services.admin.apply import SpecError, apply_spec, parse_spec
from support import LiveServer, user_keys

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def member_account(server: LiveServer) -> str:
    orgs = server.organizations()
    status = orgs.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]
    created = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])
    return str(created["CreateAccountStatus"]["AccountId"])


@pytest.fixture
def ops(server: LiveServer) -> dict[str, str]:
    """Keys of an administrator of the management account."""
    iam = server.client("iam")
    keys = user_keys(iam, "op")
    iam.attach_user_policy(UserName="op", PolicyArn=ADMIN)
    return keys


def role_session(server: LiveServer, ops: dict[str, str], account: str, **extra: Any) -> dict[str, str]:
    """Credentials of OrganizationAccountAccessRole (AdministratorAccess) in a member account."""
    creds: dict[str, str] = server.client_for("sts", ops).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="op", **extra
    )["Credentials"]
    return creds


def error_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    response = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_another_accounts_policy_answers_as_a_missing_one_and_is_never_attached(
    server: LiveServer, ops: dict[str, str]
) -> None:
    mgmt_iam = server.client("iam")
    owned = mgmt_iam.create_policy(PolicyName="crown-jewels", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    missing = owned.replace("crown-jewels", "no-such-policy")
    member = server.client_for("iam", role_session(server, ops, member_account(server)))
    member.create_user(UserName="mallory")
    member.create_group(GroupName="crew")
    member.create_role(
        RoleName="getaway",
        AssumeRolePolicyDocument=json.dumps(
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
        ),
    )
    calls: dict[str, Callable[[str], Any]] = {
        "AttachUserPolicy": lambda arn: member.attach_user_policy(UserName="mallory", PolicyArn=arn),
        "AttachGroupPolicy": lambda arn: member.attach_group_policy(GroupName="crew", PolicyArn=arn),
        "AttachRolePolicy": lambda arn: member.attach_role_policy(RoleName="getaway", PolicyArn=arn),
        "PutUserPermissionsBoundary": lambda arn: member.put_user_permissions_boundary(
            UserName="mallory", PermissionsBoundary=arn
        ),
        "PutRolePermissionsBoundary": lambda arn: member.put_role_permissions_boundary(
            RoleName="getaway", PermissionsBoundary=arn
        ),
        "CreateUser": lambda arn: member.create_user(UserName="bounded", PermissionsBoundary=arn),
        "CreateRole": lambda arn: member.create_role(
            RoleName="bounded",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
                }
            ),
            PermissionsBoundary=arn,
        ),
    }
    for operation, call in calls.items():
        code, status, message = error_of(call, owned)
        assert (code, status) == ("NoSuchEntity", 404), operation
        assert message == f"Policy {owned} does not exist or is not attachable.", operation
        # a name that exists nowhere gets the very same answer
        assert error_of(call, missing) == (code, status, message.replace(owned, missing)), operation
    # nothing changed: no attachment, no boundary, no new identity
    assert member.list_attached_user_policies(UserName="mallory")["AttachedPolicies"] == []
    assert member.list_attached_group_policies(GroupName="crew")["AttachedPolicies"] == []
    assert member.list_attached_role_policies(RoleName="getaway")["AttachedPolicies"] == []
    assert "PermissionsBoundary" not in member.get_user(UserName="mallory")["User"]
    assert "PermissionsBoundary" not in member.get_role(RoleName="getaway")["Role"]
    assert error_of(member.get_user, UserName="bounded")[0] == "NoSuchEntity"
    assert error_of(member.get_role, RoleName="bounded")[0] == "NoSuchEntity"
    # and the owner keeps full control of its policy
    mgmt_iam.delete_policy(PolicyArn=owned)


def test_aws_managed_and_own_policies_stay_attachable(server: LiveServer, ops: dict[str, str]) -> None:
    member = server.client_for("iam", role_session(server, ops, member_account(server)))
    own = member.create_policy(PolicyName="own", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    member.create_user(UserName="dev", PermissionsBoundary=READ_ONLY)
    member.attach_user_policy(UserName="dev", PolicyArn=own)
    member.attach_user_policy(UserName="dev", PolicyArn=READ_ONLY)
    member.put_user_permissions_boundary(UserName="dev", PermissionsBoundary=own)
    attached = member.list_attached_user_policies(UserName="dev")["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([own, READ_ONLY])
    assert member.get_user(UserName="dev")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == own


def test_a_cross_account_attachment_already_stored_grants_nothing(
    server: LiveServer, ops: dict[str, str]
) -> None:
    """Stores written before the fix may hold such attachments: the engine ignores them (fail closed)."""
    mgmt_iam = server.client("iam")
    owned = mgmt_iam.create_policy(PolicyName="crown-jewels", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    account = member_account(server)
    member = server.client_for("iam", role_session(server, ops, account))
    keys = user_keys(member, "mallory")
    bounded = user_keys(member, "bounded")
    member.attach_user_policy(UserName="bounded", PolicyArn=ADMIN)
    rt = server.app.rt
    with rt.store.transaction() as tx:
        policy = tx.get_policy(owned)
        mallory = tx.get_identity("user", account, "mallory")
        assert policy is not None and mallory is not None
        tx.attach(policy.policy_id, "user", mallory.unique_id)
        user = tx.get_identity("user", account, "bounded")
        assert user is not None
        tx.update_identity(replace(user, boundary_arn=owned))
    rt.changed()
    for creds in (keys, bounded):
        assert error_of(server.client_for("iam", creds).list_users)[0] == "AccessDenied"


def test_session_policies_come_from_aws_or_the_roles_account_only(
    server: LiveServer, ops: dict[str, str]
) -> None:
    """STS: "The policies must exist in the same account as the role" (AssumeRole, PolicyArns);
    AWS-managed policies may be passed too. Any other ARN limits the session to nothing."""
    mgmt_iam = server.client("iam")
    foreign = mgmt_iam.create_policy(PolicyName="wide", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    account = member_account(server)
    admin = server.client_for("iam", role_session(server, ops, account))
    own = admin.create_policy(
        PolicyName="list-users",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]

    def session(*arns: str) -> Any:
        return server.client_for(
            "iam", role_session(server, ops, account, PolicyArns=[{"arn": a} for a in arns])
        )

    read_only = session(READ_ONLY)
    read_only.list_users()
    assert error_of(read_only.create_user, UserName="x")[0] == "AccessDenied"
    session(own).list_users()
    assert error_of(session(own).list_roles)[0] == "AccessDenied"
    missing = f"arn:aws:iam::{account}:policy/no-such-policy"
    for arns in ((foreign,), (missing,), (foreign, missing)):
        code, _, message = error_of(session(*arns).list_users)
        assert code == "AccessDenied", arns
        assert "no session policy allows the iam:ListUsers action" in message
    # a foreign ARN beside a good one adds nothing
    mixed = session(own, foreign)
    mixed.list_users()
    assert error_of(mixed.list_roles)[0] == "AccessDenied"


def test_apply_refuses_another_accounts_policy_for_a_member_role(server: LiveServer) -> None:
    mgmt = server.account_id
    spec: dict[str, Any] = {
        "management": {"id": mgmt, "name": "main"},
        "accounts": [{"id": "210987654321", "name": "member"}],
        "policies": [{"name": "crown-jewels", "document": json.loads(ALLOW_ALL)}],
        "roles": [
            {
                "name": "ops",
                "accounts": ["main", "member"],
                "trust": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{mgmt}:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "policies": [READ_ONLY, "crown-jewels"],
            }
        ],
    }
    with pytest.raises(SpecError) as exc:
        apply_spec(server.app.rt, parse_spec(spec))
    assert str(exc.value).startswith("roles[0].policies[1]: ")
    assert "210987654321" in str(exc.value)
    with server.app.rt.store.transaction() as tx:  # the failed apply wrote nothing
        assert tx.get_identity("role", "210987654321", "ops") is None
        assert tx.get_identity("role", mgmt, "ops") is None
    spec["roles"][0]["accounts"] = ["main"]  # in its own account the policy is attachable
    apply_spec(server.app.rt, parse_spec(spec))
