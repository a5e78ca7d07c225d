"""Service control policies through Organizations: root -> OU -> account must all allow; the
management account is never restricted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support import LiveServer


def doc(effect: str, action: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]}
    )


@pytest.fixture
def member(server: LiveServer) -> dict[str, Any]:
    """A member account, and an administrator session in it through OrganizationAccountAccessRole."""
    orgs = server.organizations()
    status = orgs.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]
    account = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    iam = server.client("iam")
    iam.create_user(UserName="operator")
    iam.attach_user_policy(UserName="operator", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    keys = iam.create_access_key(UserName="operator")["AccessKey"]
    creds = server.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{account['AccountId']}:role/OrganizationAccountAccessRole",
        RoleSessionName="op",
    )["Credentials"]
    return {"id": account["AccountId"], "iam": server.client_for("iam", creds), "operator": keys}


def code_and_message(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_deny_on_the_account_binds_its_principals_only(server: LiveServer, member: dict[str, Any]) -> None:
    orgs = server.client("organizations")
    scp = orgs.create_policy(
        Name="no-users", Description="d", Type="SERVICE_CONTROL_POLICY", Content=doc("Deny", "iam:CreateUser")
    )["Policy"]["PolicySummary"]
    assert scp["Id"].startswith("p-")
    member["iam"].create_user(UserName="before")
    orgs.attach_policy(PolicyId=scp["Id"], TargetId=member["id"])
    code, message = code_and_message(lambda: member["iam"].create_user(UserName="after"))
    assert code == "AccessDenied" and message.endswith("with an explicit deny in a service control policy")
    # the management account is never restricted by SCPs, even one on the root
    orgs.attach_policy(PolicyId=scp["Id"], TargetId=orgs.list_roots()["Roots"][0]["Id"])
    server.client_for("iam", member["operator"]).create_user(UserName="in-management")
    policies = {
        p["Name"]
        for p in orgs.list_policies_for_target(TargetId=member["id"], Filter="SERVICE_CONTROL_POLICY")[
            "Policies"
        ]
    }
    assert policies == {"FullAWSAccess", "no-users"}
    orgs.detach_policy(PolicyId=scp["Id"], TargetId=member["id"])
    orgs.detach_policy(PolicyId=scp["Id"], TargetId=orgs.list_roots()["Roots"][0]["Id"])
    member["iam"].create_user(UserName="after")


def test_every_level_must_allow(server: LiveServer, member: dict[str, Any]) -> None:
    orgs = server.client("organizations")
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    ou = orgs.create_organizational_unit(ParentId=root_id, Name="workloads")["OrganizationalUnit"]
    orgs.move_account(AccountId=member["id"], SourceParentId=root_id, DestinationParentId=ou["Id"])
    assert orgs.list_parents(ChildId=member["id"])["Parents"] == [
        {"Id": ou["Id"], "Type": "ORGANIZATIONAL_UNIT"}
    ]
    assert [c["Id"] for c in orgs.list_children(ParentId=ou["Id"], ChildType="ACCOUNT")["Children"]] == [
        member["id"]
    ]
    list_only = orgs.create_policy(
        Name="list-only", Description="", Type="SERVICE_CONTROL_POLICY", Content=doc("Allow", "iam:List*")
    )["Policy"]["PolicySummary"]
    orgs.attach_policy(PolicyId=list_only["Id"], TargetId=ou["Id"])
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou["Id"])
    member["iam"].list_roles()
    code, message = code_and_message(
        lambda: member["iam"].create_role(
            RoleName="r",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{member['id']}:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
    )
    assert code == "AccessDenied" and message.endswith(
        "because no service control policy allows the iam:CreateRole action"
    )
    code, _ = code_and_message(lambda: orgs.detach_policy(PolicyId=list_only["Id"], TargetId=ou["Id"]))
    assert code == "ConstraintViolationException"
    code, _ = code_and_message(lambda: orgs.delete_organizational_unit(OrganizationalUnitId=ou["Id"]))
    assert code == "OrganizationalUnitNotEmptyException"


def test_policy_lifecycle_and_errors(server: LiveServer) -> None:
    orgs = server.organizations()
    created = orgs.create_policy(
        Name="p1", Description="", Type="SERVICE_CONTROL_POLICY", Content=doc("Deny", "s3:*")
    )["Policy"]["PolicySummary"]
    described = orgs.describe_policy(PolicyId=created["Id"])["Policy"]
    assert json.loads(described["Content"])["Statement"][0]["Action"] == "s3:*"
    orgs.update_policy(PolicyId=created["Id"], Content=doc("Deny", "ec2:*"))
    assert "ec2:*" in orgs.describe_policy(PolicyId=created["Id"])["Policy"]["Content"]
    names = {p["Name"] for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]}
    assert names == {"FullAWSAccess", "p1"}
    code, _ = code_and_message(
        lambda: orgs.create_policy(
            Name="bad", Description="", Type="SERVICE_CONTROL_POLICY", Content='{"Version": "2012-10-17"}'
        )
    )
    assert code == "MalformedPolicyDocumentException"
    code, _ = code_and_message(lambda: orgs.attach_policy(PolicyId=created["Id"], TargetId="111111111111"))
    assert code == "TargetNotFoundException"
    orgs.delete_policy(PolicyId=created["Id"])
    code, _ = code_and_message(lambda: orgs.describe_policy(PolicyId=created["Id"]))
    assert code == "PolicyNotFoundException"
