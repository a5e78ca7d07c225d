"""AWS-managed policies (arn:aws:iam::aws:policy/…) belong to no customer account but are readable in
every one (issue 15, finding 3): an identity policy's Allow suffices, as for the account's own
resources, while they stay read-only for everybody, root included."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support import LiveServer, user_keys

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def refused(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as exc:
        call(**params)
    return str(exc.value.response["Error"]["Code"])


def administrator(server: LiveServer) -> Any:
    iam = server.client("iam")
    keys = user_keys(iam, "admin")
    iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN)
    return server.client_for("iam", keys)


def member_administrator(server: LiveServer, admin_keys: dict[str, str]) -> Any:
    """A session of OrganizationAccountAccessRole in a new member account."""
    orgs = server.organizations()
    status = orgs.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]
    account = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    creds = server.client_for("sts", admin_keys).assume_role(
        RoleArn=f"arn:aws:iam::{account['AccountId']}:role/OrganizationAccountAccessRole",
        RoleSessionName="op",
    )["Credentials"]
    return server.client_for("iam", creds)


def read_everything(iam: Any) -> None:
    policy = iam.get_policy(PolicyArn=READ_ONLY)["Policy"]
    assert policy["Arn"] == READ_ONLY
    version = iam.get_policy_version(PolicyArn=READ_ONLY, VersionId=policy["DefaultVersionId"])
    assert version["PolicyVersion"]["IsDefaultVersion"]
    versions = iam.list_policy_versions(PolicyArn=READ_ONLY)["Versions"]
    assert [v["VersionId"] for v in versions] == [policy["DefaultVersionId"]]
    iam.list_entities_for_policy(PolicyArn=READ_ONLY)
    assert iam.list_policy_tags(PolicyArn=READ_ONLY)["Tags"] == []


def test_administrators_read_aws_managed_policies_in_any_account(server: LiveServer) -> None:
    iam = server.client("iam")
    keys = user_keys(iam, "admin")
    iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN)
    read_everything(server.client_for("iam", keys))  # a user of the management account
    read_everything(member_administrator(server, keys))  # a role session in a member account
    read_everything(iam)  # root, as before


def test_reading_them_still_needs_an_allow(server: LiveServer) -> None:
    nobody = server.client_for("iam", user_keys(server.client("iam"), "nobody"))
    assert refused(nobody.get_policy, PolicyArn=READ_ONLY) == "AccessDenied"
    assert refused(nobody.list_entities_for_policy, PolicyArn=READ_ONLY) == "AccessDenied"


def writes_to(iam: Any) -> list[tuple[Callable[..., Any], dict[str, Any]]]:
    return [
        (iam.create_policy_version, {"PolicyDocument": ALLOW_ALL, "SetAsDefault": True}),
        (iam.set_default_policy_version, {"VersionId": "v1"}),
        (iam.delete_policy_version, {"VersionId": "v1"}),
        (iam.delete_policy, {}),
        (iam.tag_policy, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (iam.untag_policy, {"TagKeys": ["k"]}),
    ]


def test_they_stay_read_only_for_administrators_and_root(server: LiveServer) -> None:
    for iam in (administrator(server), server.client("iam")):
        for write, params in writes_to(iam):
            assert refused(write, PolicyArn=READ_ONLY, **params) == "AccessDenied", write
    root = server.client("iam")
    assert root.get_policy(PolicyArn=READ_ONLY)["Policy"]["DefaultVersionId"] == "v1"
    assert [v["VersionId"] for v in root.list_policy_versions(PolicyArn=READ_ONLY)["Versions"]] == ["v1"]
    assert root.list_policy_tags(PolicyArn=READ_ONLY)["Tags"] == []


def test_entities_for_an_aws_managed_policy_are_the_callers_accounts_only(server: LiveServer) -> None:
    iam = server.client("iam")
    keys = user_keys(iam, "admin")
    iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN)
    member = member_administrator(server, keys)
    member.create_user(UserName="local")
    member.attach_user_policy(UserName="local", PolicyArn=ADMIN)
    seen = member.list_entities_for_policy(PolicyArn=ADMIN)
    assert [u["UserName"] for u in seen["PolicyUsers"]] == ["local"]
    assert [r["RoleName"] for r in seen["PolicyRoles"]] == ["OrganizationAccountAccessRole"]
    mine = iam.list_entities_for_policy(PolicyArn=ADMIN)
    assert [u["UserName"] for u in mine["PolicyUsers"]] == ["admin"]
    assert mine["PolicyRoles"] == []


def test_an_accounts_attachment_count_is_its_own(server: LiveServer) -> None:
    """Reading an AWS-managed policy tells an account how often it uses it, never how often other
    accounts do (IAM reports AttachmentCount per account)."""
    iam = server.client("iam")
    admin_keys = user_keys(iam, "admin")
    iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN)
    for name in ("ops", "audit"):
        iam.create_group(GroupName=name)
        iam.attach_group_policy(GroupName=name, PolicyArn=READ_ONLY)
    assert iam.get_policy(PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] == 2
    member = member_administrator(server, admin_keys)  # its role holds AdministratorAccess
    assert member.get_policy(PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] == 0
    assert member.get_policy(PolicyArn=ADMIN)["Policy"]["AttachmentCount"] == 1
    attached = member.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert [(p["Arn"], p["AttachmentCount"]) for p in attached] == [(ADMIN, 1)]
    assert iam.get_policy(PolicyArn=ADMIN)["Policy"]["AttachmentCount"] == 1  # the management's admin
