"""Tags on the organization's accounts, OUs, root and policies, OU names, and MaxResults/NextToken
on Organizations' List operations, through real boto3 clients (and boto3's own paginators)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from trail_support import module_server

from support import LiveServer

UNKNOWN_ACCOUNT = "210987654321"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("tags") / "data") as server:
        server.organizations()
        yield server


@pytest.fixture(scope="module")
def orgs(live: LiveServer) -> Any:
    return live.client("organizations")


@pytest.fixture(scope="module")
def tree(orgs: Any) -> dict[str, Any]:
    """root -> (three accounts, OU "workloads" -> (OU "prod" -> two accounts), OU "sandbox")."""
    root = orgs.list_roots()["Roots"][0]["Id"]
    workloads = orgs.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    prod = orgs.create_organizational_unit(ParentId=workloads, Name="prod")["OrganizationalUnit"]["Id"]
    sandbox = orgs.create_organizational_unit(ParentId=root, Name="sandbox")["OrganizationalUnit"]["Id"]
    accounts = []
    for i in range(5):
        status = orgs.create_account(Email=f"a{i}@example.com", AccountName=f"account{i}")[
            "CreateAccountStatus"
        ]
        done = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        accounts.append(done["AccountId"])
    for account in accounts[3:]:
        orgs.move_account(AccountId=account, SourceParentId=root, DestinationParentId=prod)
    return {"root": root, "workloads": workloads, "prod": prod, "sandbox": sandbox, "accounts": accounts}


def error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response.get("Reason", "")


def tags_of(orgs: Any, resource: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in orgs.list_tags_for_resource(ResourceId=resource)["Tags"]}


def test_tags_on_accounts_ous_the_root_and_policies(orgs: Any, tree: dict[str, Any]) -> None:
    scp = orgs.create_policy(
        Name="deny-nothing",
        Description="d",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "x:Y", "Resource": "*"}]}
        ),
    )["Policy"]["PolicySummary"]["Id"]
    for resource in (tree["accounts"][0], tree["workloads"], tree["root"], scp):
        assert tags_of(orgs, resource) == {}
        orgs.tag_resource(
            ResourceId=resource, Tags=[{"Key": "team", "Value": "core"}, {"Key": "cost", "Value": ""}]
        )
        orgs.tag_resource(
            ResourceId=resource, Tags=[{"Key": "team", "Value": "platform"}]
        )  # replaces the value
        assert tags_of(orgs, resource) == {"team": "platform", "cost": ""}
        orgs.untag_resource(ResourceId=resource, TagKeys=["cost", "absent"])
        assert tags_of(orgs, resource) == {"team": "platform"}
    assert tags_of(orgs, tree["accounts"][1]) == {}  # tags are per resource

    tagged = orgs.create_organizational_unit(
        ParentId=tree["root"], Name="tagged", Tags=[{"Key": "env", "Value": "test"}]
    )["OrganizationalUnit"]["Id"]
    assert tags_of(orgs, tagged) == {"env": "test"}
    orgs.delete_organizational_unit(OrganizationalUnitId=tagged)
    assert error(lambda: orgs.list_tags_for_resource(ResourceId=tagged))[0] == "TargetNotFoundException"


def test_tag_refusals(live: LiveServer, orgs: Any, tree: dict[str, Any]) -> None:
    account = tree["accounts"][2]
    unknown_ou = tree["workloads"][: tree["workloads"].rindex("-")] + "-zzzzzzzz"
    for resource in (UNKNOWN_ACCOUNT, unknown_ou, "r-zzzz", "p-zzzzzzzz"):
        assert (
            error(lambda r=resource: orgs.list_tags_for_resource(ResourceId=r))[0]
            == "TargetNotFoundException"
        )
        assert error(lambda r=resource: orgs.tag_resource(ResourceId=r, Tags=[{"Key": "k", "Value": "v"}]))[
            0
        ] == ("TargetNotFoundException")
    assert (
        error(lambda: orgs.untag_resource(ResourceId=UNKNOWN_ACCOUNT, TagKeys=["k"]))[0]
        == "TargetNotFoundException"
    )
    assert error(lambda: orgs.list_tags_for_resource(ResourceId="not-an-id")) == (
        "InvalidInputException",
        "INVALID_PATTERN",
    )
    assert error(
        lambda: orgs.tag_resource(ResourceId=account, Tags=[{"Key": "aws:owner", "Value": "x"}])
    ) == (
        "InvalidInputException",
        "INVALID_SYSTEM_TAGS_PARAMETER",
    )
    assert error(lambda: orgs.untag_resource(ResourceId=account, TagKeys=["AWS:owner"])) == (
        "InvalidInputException",
        "INVALID_SYSTEM_TAGS_PARAMETER",
    )
    twice = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    assert error(lambda: orgs.tag_resource(ResourceId=account, Tags=twice)) == (
        "InvalidInputException",
        "DUPLICATE_TAG_KEY",
    )
    unchecked = live.client("organizations", validate=False)  # lengths the SDK does not check
    assert error(
        lambda: unchecked.tag_resource(ResourceId=account, Tags=[{"Key": "k" * 129, "Value": ""}])
    ) == (
        "InvalidInputException",
        "MAX_LENGTH_EXCEEDED",
    )
    assert error(
        lambda: unchecked.tag_resource(ResourceId=account, Tags=[{"Key": "k", "Value": "v" * 257}])
    ) == (
        "InvalidInputException",
        "MAX_LENGTH_EXCEEDED",
    )
    assert error(lambda: orgs.tag_resource(ResourceId=account, Tags=[{"Key": "a<b", "Value": ""}])) == (
        "InvalidInputException",
        "INVALID_PATTERN",
    )
    assert error(
        lambda: orgs.tag_resource(ResourceId="p-FullAWSAccess", Tags=[{"Key": "k", "Value": "v"}])
    ) == ("InvalidInputException", "IMMUTABLE_POLICY")
    assert tags_of(orgs, account) == {}  # nothing refused was stored

    # at most 50 tags on a resource
    orgs.tag_resource(ResourceId=account, Tags=[{"Key": f"k{i:02}", "Value": str(i)} for i in range(50)])
    orgs.tag_resource(ResourceId=account, Tags=[{"Key": "k07", "Value": "new"}])  # a replacement is no 51st
    assert error(lambda: orgs.tag_resource(ResourceId=account, Tags=[{"Key": "one-more", "Value": ""}])) == (
        "ConstraintViolationException",
        "MAX_TAG_LIMIT_EXCEEDED",
    )
    pages = orgs.get_paginator("list_tags_for_resource").paginate(ResourceId=account)  # no MaxResults: 20
    sizes = [len(page["Tags"]) for page in pages]
    assert sizes == [20, 20, 10]
    assert tags_of(orgs, account)["k07"] == "new"
    orgs.untag_resource(ResourceId=account, TagKeys=[f"k{i:02}" for i in range(50)])
    assert tags_of(orgs, account) == {}


def test_paginators_walk_to_the_end(orgs: Any, tree: dict[str, Any]) -> None:
    root, prod, accounts = tree["root"], tree["prod"], tree["accounts"]
    management = orgs.describe_organization()["Organization"]["MasterAccountId"]

    def walk(name: str, key: str, **params: Any) -> list[list[str]]:
        pages = orgs.get_paginator(name).paginate(**params, PaginationConfig={"PageSize": 1})
        return [[item["Id"] for item in page[key]] for page in pages]

    at_root = sorted([management, *accounts[:3]])
    assert walk("list_accounts_for_parent", "Accounts", ParentId=root) == [[a] for a in at_root]
    assert walk("list_accounts_for_parent", "Accounts", ParentId=prod) == [[a] for a in sorted(accounts[3:])]
    assert walk("list_accounts_for_parent", "Accounts", ParentId=tree["workloads"]) == [
        []
    ]  # not its OUs' accounts
    ous = sorted([tree["workloads"], tree["sandbox"]])
    assert walk("list_children", "Children", ParentId=root, ChildType="ORGANIZATIONAL_UNIT") == [
        [o] for o in ous
    ]
    assert walk("list_children", "Children", ParentId=root, ChildType="ACCOUNT") == [[a] for a in at_root]
    assert walk("list_organizational_units_for_parent", "OrganizationalUnits", ParentId=root) == [
        [o] for o in ous
    ]
    assert walk("list_parents", "Parents", ChildId=prod) == [[tree["workloads"]]]

    shape = orgs.list_accounts_for_parent(ParentId=prod, MaxResults=1)
    assert shape["Accounts"][0]["Name"] == f"account{accounts.index(shape['Accounts'][0]['Id'])}"
    assert shape["Accounts"][0]["Arn"].endswith(f"/{shape['Accounts'][0]['Id']}") and shape["NextToken"]
    assert "NextToken" not in orgs.list_accounts_for_parent(ParentId=prod)


def test_paging_and_parent_refusals(orgs: Any, tree: dict[str, Any]) -> None:
    for call in (
        lambda: orgs.list_accounts_for_parent(ParentId=tree["root"], NextToken="not-a-token"),
        lambda: orgs.list_children(ParentId=tree["root"], ChildType="ACCOUNT", NextToken="not-a-token"),
        lambda: orgs.list_tags_for_resource(ResourceId=tree["root"], NextToken="not-a-token"),
        lambda: orgs.list_delegated_administrators(NextToken="not-a-token"),
        lambda: orgs.list_accounts_for_parent(ParentId=tree["root"], NextToken="!!!!"),  # decodes to ""
    ):
        assert error(call) == ("InvalidInputException", "INVALID_NEXT_TOKEN")
    assert error(lambda: orgs.list_accounts_for_parent(ParentId=tree["root"], MaxResults=21)) == (
        "InvalidInputException",
        "MAX_VALUE_EXCEEDED",
    )
    unknown_ou = tree["workloads"][: tree["workloads"].rindex("-")] + "-zzzzzzzz"
    assert error(lambda: orgs.list_accounts_for_parent(ParentId=unknown_ou))[0] == "ParentNotFoundException"


def test_ou_names_are_unique_among_siblings(orgs: Any, tree: dict[str, Any]) -> None:
    root = tree["root"]
    code, _ = error(lambda: orgs.create_organizational_unit(ParentId=root, Name="sandbox"))
    assert code == "DuplicateOrganizationalUnitException"
    code, _ = error(
        lambda: orgs.update_organizational_unit(OrganizationalUnitId=tree["workloads"], Name="sandbox")
    )
    assert code == "DuplicateOrganizationalUnitException"
    # the same name under another parent, and an OU keeping its own name, are fine
    nested = orgs.create_organizational_unit(ParentId=tree["workloads"], Name="sandbox")["OrganizationalUnit"]
    kept = orgs.update_organizational_unit(OrganizationalUnitId=tree["sandbox"], Name="sandbox")
    assert kept["OrganizationalUnit"]["Name"] == "sandbox"
    renamed = orgs.update_organizational_unit(OrganizationalUnitId=nested["Id"], Name="play")[
        "OrganizationalUnit"
    ]
    assert renamed == {**nested, "Name": "play"}
    assert (
        orgs.describe_organizational_unit(OrganizationalUnitId=nested["Id"])["OrganizationalUnit"]["Name"]
        == "play"
    )
    orgs.delete_organizational_unit(OrganizationalUnitId=nested["Id"])
