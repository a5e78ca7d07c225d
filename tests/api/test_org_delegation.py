"""Delegated administration through real boto3 clients: delegated administrators and trusted
services, and the organization's resource-based delegation policy honoured when a member account's
principals read the organization (and refused without it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from trail_support import module_server

from support import LiveServer, management_operator, member_credentials, org_error

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("delegation") / "data") as server:
        server.organizations()
        yield server


@pytest.fixture(scope="module")
def orgs(live: LiveServer) -> Any:
    return live.client("organizations")


@pytest.fixture(scope="module")
def accounts(live: LiveServer, orgs: Any) -> list[str]:
    """Four member accounts, created as AWS creates them (with OrganizationAccountAccessRole)."""
    found = []
    for i in range(4):
        status = orgs.create_account(Email=f"member{i}@example.com", AccountName=f"member{i}")
        request = orgs.describe_create_account_status(
            CreateAccountRequestId=status["CreateAccountStatus"]["Id"]
        )
        assert request["CreateAccountStatus"]["State"] == "SUCCEEDED"
        found.append(request["CreateAccountStatus"]["AccountId"])
    return found


@pytest.fixture(scope="module")
def operator(live: LiveServer) -> dict[str, str]:
    return management_operator(live)


def denied(call: Any) -> None:
    code, _, _ = org_error(call)
    assert code == "AccessDeniedException"


def test_trusted_service_access(orgs: Any) -> None:
    code, reason, _ = org_error(
        lambda: orgs.enable_aws_service_access(ServicePrincipal="nothing.example.com")
    )
    assert (code, reason) == ("InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
    for service in ("ram.amazonaws.com", "config.amazonaws.com", "sso.amazonaws.com"):
        orgs.enable_aws_service_access(ServicePrincipal=service)
    orgs.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")  # again: no change
    pages = orgs.get_paginator("list_aws_service_access_for_organization").paginate(
        PaginationConfig={"PageSize": 1}
    )
    seen = [[e["ServicePrincipal"] for e in page["EnabledServicePrincipals"]] for page in pages]
    assert seen == [["config.amazonaws.com"], ["ram.amazonaws.com"], ["sso.amazonaws.com"]]
    orgs.disable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
    orgs.disable_aws_service_access(ServicePrincipal="ram.amazonaws.com")  # not enabled: no change
    enabled = orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [e["ServicePrincipal"] for e in enabled] == ["config.amazonaws.com", "sso.amazonaws.com"]
    assert all(e["DateEnabled"] for e in enabled)


def test_delegated_administrator_lifecycle(orgs: Any, accounts: list[str], live: LiveServer) -> None:
    a, b, c, d = accounts
    code, reason, _ = org_error(
        lambda: orgs.register_delegated_administrator(AccountId=a, ServicePrincipal="guardduty.amazonaws.com")
    )
    assert (code, reason) == ("ConstraintViolationException", "SERVICE_ACCESS_NOT_ENABLED")
    orgs.enable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
    orgs.register_delegated_administrator(AccountId=a, ServicePrincipal="guardduty.amazonaws.com")

    code, _, _ = org_error(
        lambda: orgs.register_delegated_administrator(AccountId=a, ServicePrincipal="guardduty.amazonaws.com")
    )
    assert code == "AccountAlreadyRegisteredException"
    code, reason, _ = org_error(
        lambda: orgs.register_delegated_administrator(AccountId=b, ServicePrincipal="guardduty.amazonaws.com")
    )
    assert (code, reason) == (
        "ConstraintViolationException",
        "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE",
    )
    code, reason, _ = org_error(
        lambda: orgs.register_delegated_administrator(
            AccountId=live.account_id, ServicePrincipal="guardduty.amazonaws.com"
        )
    )
    assert (code, reason) == (
        "ConstraintViolationException",
        "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
    )
    code, _, _ = org_error(
        lambda: orgs.register_delegated_administrator(
            AccountId="210987654321", ServicePrincipal="guardduty.amazonaws.com"
        )
    )
    assert code == "AccountNotFoundException"
    code, reason, _ = org_error(
        lambda: orgs.register_delegated_administrator(AccountId=b, ServicePrincipal="nothing.example.com")
    )
    assert (code, reason) == ("InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")

    # CloudTrail takes three delegated administrators
    orgs.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    for account in (a, b, c):
        orgs.register_delegated_administrator(AccountId=account, ServicePrincipal="cloudtrail.amazonaws.com")
    code, reason, _ = org_error(
        lambda: orgs.register_delegated_administrator(
            AccountId=d, ServicePrincipal="cloudtrail.amazonaws.com"
        )
    )
    assert (code, reason) == (
        "ConstraintViolationException",
        "MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED",
    )

    listed = orgs.list_delegated_administrators()["DelegatedAdministrators"]
    assert [x["Id"] for x in listed] == sorted([a, b, c])
    first = next(x for x in listed if x["Id"] == a)
    assert (
        first["Arn"].endswith(f"/{a}") and first["Name"] == "member0" and first["JoinedMethod"] == "CREATED"
    )
    assert first["Status"] == "ACTIVE" and first["DelegationEnabledDate"]
    only = orgs.list_delegated_administrators(ServicePrincipal="guardduty.amazonaws.com")
    assert [x["Id"] for x in only["DelegatedAdministrators"]] == [a]
    pages = orgs.get_paginator("list_delegated_administrators").paginate(PaginationConfig={"PageSize": 1})
    assert [[x["Id"] for x in page["DelegatedAdministrators"]] for page in pages] == [
        [x] for x in sorted([a, b, c])
    ]

    services = orgs.list_delegated_services_for_account(AccountId=a)["DelegatedServices"]
    assert [s["ServicePrincipal"] for s in services] == [
        "cloudtrail.amazonaws.com",
        "guardduty.amazonaws.com",
    ]
    assert (
        org_error(lambda: orgs.list_delegated_services_for_account(AccountId=d))[0]
        == "AccountNotRegisteredException"
    )
    assert org_error(lambda: orgs.list_delegated_services_for_account(AccountId="210987654321"))[0] == (
        "AccountNotFoundException"
    )

    orgs.deregister_delegated_administrator(AccountId=a, ServicePrincipal="guardduty.amazonaws.com")
    code, _, _ = org_error(
        lambda: orgs.deregister_delegated_administrator(
            AccountId=a, ServicePrincipal="guardduty.amazonaws.com"
        )
    )
    assert code == "AccountNotRegisteredException"
    orgs.register_delegated_administrator(
        AccountId=b, ServicePrincipal="guardduty.amazonaws.com"
    )  # room again

    # disabling trusted access deregisters the service's delegated administrators
    orgs.disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    assert (
        orgs.list_delegated_administrators(ServicePrincipal="cloudtrail.amazonaws.com")[
            "DelegatedAdministrators"
        ]
        == []
    )
    assert (
        org_error(lambda: orgs.list_delegated_services_for_account(AccountId=a))[0]
        == "AccountNotRegisteredException"
    )
    orgs.deregister_delegated_administrator(AccountId=b, ServicePrincipal="guardduty.amazonaws.com")
    assert orgs.list_delegated_administrators()["DelegatedAdministrators"] == []


def test_a_delegated_administrator_reads_the_organization(
    live: LiveServer, orgs: Any, accounts: list[str], operator: dict[str, str]
) -> None:
    admin, other = accounts[0], accounts[1]
    as_admin = live.client_for("organizations", member_credentials(live, operator, admin))
    as_other = live.client_for("organizations", member_credentials(live, operator, other))
    denied(lambda: as_admin.list_accounts())
    orgs.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")
    orgs.register_delegated_administrator(AccountId=admin, ServicePrincipal="sso.amazonaws.com")
    try:
        assert admin in {a["Id"] for a in as_admin.list_accounts()["Accounts"]}
        root = as_admin.list_roots()["Roots"][0]["Id"]
        assert as_admin.list_delegated_administrators()["DelegatedAdministrators"][0]["Id"] == admin
        assert as_admin.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
        # reads only: changes stay the management account's
        denied(lambda: as_admin.create_organizational_unit(ParentId=root, Name="by-delegate"))
        denied(
            lambda: as_admin.register_delegated_administrator(
                AccountId=other, ServicePrincipal="sso.amazonaws.com"
            )
        )
        denied(lambda: as_other.list_accounts())  # another member is no delegated administrator
    finally:
        orgs.deregister_delegated_administrator(AccountId=admin, ServicePrincipal="sso.amazonaws.com")
    denied(lambda: as_admin.list_accounts())


def delegation(account: str, actions: list[str], resource: str | list[str] = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Delegate",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": actions,
                    "Resource": resource,
                }
            ],
        }
    )


def test_the_resource_policy_lets_a_member_read(
    live: LiveServer, orgs: Any, accounts: list[str], operator: dict[str, str]
) -> None:
    member = accounts[2]
    session = member_credentials(live, operator, member)
    as_member = live.client_for("organizations", session)
    root = orgs.list_roots()["Roots"][0]["Id"]
    shared = orgs.create_organizational_unit(ParentId=root, Name="shared")["OrganizationalUnit"]
    private = orgs.create_organizational_unit(ParentId=root, Name="private")["OrganizationalUnit"]

    denied(lambda: as_member.list_accounts())  # nothing delegated yet
    denied(lambda: as_member.describe_organizational_unit(OrganizationalUnitId=shared["Id"]))

    orgs.put_resource_policy(
        Content=delegation(member, ["organizations:ListAccounts", "organizations:DescribeOrganizationalUnit"])
    )
    try:
        assert member in {a["Id"] for a in as_member.list_accounts()["Accounts"]}
        ou = as_member.describe_organizational_unit(OrganizationalUnitId=shared["Id"])["OrganizationalUnit"]
        assert ou == shared
        denied(lambda: as_member.list_roots())  # not named by the policy
        denied(lambda: as_member.create_organizational_unit(ParentId=root, Name="x"))  # never delegable
        other = live.client_for("organizations", member_credentials(live, operator, accounts[3]))
        denied(lambda: other.list_accounts())  # the policy names one account

        # cross-account: the member's own policies must allow it too
        member_iam = live.client_for("iam", session)
        member_iam.create_user(UserName="no-permissions")
        keys = member_iam.create_access_key(UserName="no-permissions")["AccessKey"]
        code, _, message = org_error(lambda: live.client_for("organizations", keys).list_accounts())
        assert code == "AccessDeniedException"
        assert "no-permissions is not authorized to perform: organizations:ListAccounts" in message

        # a statement's Resource limits it to the resources it names
        orgs.put_resource_policy(
            Content=delegation(member, ["organizations:DescribeOrganizationalUnit"], shared["Arn"])
        )
        assert as_member.describe_organizational_unit(OrganizationalUnitId=shared["Id"])
        denied(lambda: as_member.describe_organizational_unit(OrganizationalUnitId=private["Id"]))
        denied(lambda: as_member.list_accounts())  # the new policy replaced the old one
    finally:
        orgs.delete_resource_policy()
    denied(lambda: as_member.describe_organizational_unit(OrganizationalUnitId=shared["Id"]))


def test_resource_policy_shape_and_refusals(
    live: LiveServer, orgs: Any, accounts: list[str], operator: dict[str, str]
) -> None:
    assert org_error(lambda: orgs.describe_resource_policy())[0] == "ResourcePolicyNotFoundException"
    assert org_error(lambda: orgs.delete_resource_policy())[0] == "ResourcePolicyNotFoundException"
    content = delegation(accounts[0], ["organizations:Describe*", "organizations:List*"])
    put = orgs.put_resource_policy(Content=content, Tags=[{"Key": "team", "Value": "platform"}])[
        "ResourcePolicy"
    ]
    summary = put["ResourcePolicySummary"]
    org_id = orgs.describe_organization()["Organization"]["Id"]
    assert summary["Id"].startswith("rp-")
    assert (
        summary["Arn"] == f"arn:aws:organizations::{live.account_id}:resourcepolicy/{org_id}/{summary['Id']}"
    )
    assert put["Content"] == content
    assert orgs.describe_resource_policy()["ResourcePolicy"] == put
    assert orgs.list_tags_for_resource(ResourceId=summary["Id"])["Tags"] == [
        {"Key": "team", "Value": "platform"}
    ]
    again = orgs.put_resource_policy(Content=delegation(accounts[0], ["organizations:ListRoots"]))
    assert again["ResourcePolicy"]["ResourcePolicySummary"] == summary  # updated in place

    statement = json.loads(content)["Statement"][0]
    refused = {
        "INVALID_RESOURCE_POLICY_JSON": "{not json",
        "INVALID_PRINCIPAL": json.dumps(
            {"Version": "2012-10-17", "Statement": [{**statement, "Principal": None}]}
        ),
        "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY": delegation(accounts[0], ["organizations:CreateAccount"]),
        "UNSUPPORTED_RESOURCE_IN_RESOURCE_POLICY": delegation(
            accounts[0], ["organizations:ListRoots"], "arn:aws:iam::123456789012:role/x"
        ),
        "UNSUPPORTED_POLICY_TYPE_IN_RESOURCE_POLICY": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {**statement, "Condition": {"StringEquals": {"organizations:PolicyType": "NOT_A_TYPE"}}}
                ],
            }
        ),
    }
    refused["INVALID_PRINCIPAL"] = json.dumps(
        {"Version": "2012-10-17", "Statement": [{k: v for k, v in statement.items() if k != "Principal"}]}
    )
    service = {**statement, "Principal": {"Service": "ec2.amazonaws.com"}}
    for reason, document in [*refused.items(), ("INVALID_PRINCIPAL", json.dumps({"Statement": [service]}))]:
        code, got, _ = org_error(lambda document=document: orgs.put_resource_policy(Content=document))
        assert (code, got) == ("InvalidInputException", reason), document
    not_delegable = delegation(accounts[0], ["iam:ListUsers"])
    assert (
        org_error(lambda: orgs.put_resource_policy(Content=not_delegable))[1]
        == "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"
    )

    as_member = live.client_for("organizations", member_credentials(live, operator, accounts[0]))
    denied(lambda: as_member.put_resource_policy(Content=content))  # the management account's alone
    denied(lambda: as_member.delete_resource_policy())
    orgs.delete_resource_policy()
    assert org_error(lambda: orgs.describe_resource_policy())[0] == "ResourcePolicyNotFoundException"
    assert (
        org_error(lambda: orgs.list_tags_for_resource(ResourceId=summary["Id"]))[0]
        == "TargetNotFoundException"
    )
