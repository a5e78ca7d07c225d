"""IAM's policy simulator over the live API: SimulatePrincipalPolicy, SimulateCustomPolicy and
GetContextKeysFor*Policy with boto3 (every input family), the AWS CLI once, and a property test:
SimulateCustomPolicy and SimulatePrincipalPolicy answer what enforcement decides for the same
request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trail_support import module_server

from support import LiveServer, aws_cli

ALLOW_GET = {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("simulator") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def iam(live: LiveServer) -> Any:
    return live.client("iam")


@pytest.fixture(scope="module")
def acct(live: LiveServer) -> str:
    return live.account_id


def only(results: dict[str, Any]) -> dict[str, Any]:
    (result,) = results["EvaluationResults"]
    return dict(result)


# --- SimulateCustomPolicy -------------------------------------------------------------------


def test_custom_policy_decisions_and_statement_positions(iam: Any) -> None:
    text = (
        "{\n"
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        '    {"Sid": "Get", "Effect": "Allow", "Action": "iam:Get*", "Resource": "*"},\n'
        '    {"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"}\n'
        "  ]\n"
        "}"
    )
    out = iam.simulate_custom_policy(
        PolicyInputList=[text], ActionNames=["iam:GetUser", "iam:GetRole", "iam:ListUsers"]
    )
    by_action = {r["EvalActionName"]: r for r in out["EvaluationResults"]}
    assert {a: r["EvalDecision"] for a, r in by_action.items()} == {
        "iam:GetUser": "allowed",
        "iam:GetRole": "explicitDeny",
        "iam:ListUsers": "implicitDeny",
    }
    allowed = by_action["iam:GetUser"]
    assert allowed["EvalResourceName"] == "*"
    assert allowed["MatchedStatements"] == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "none",
            "StartPosition": {"Line": 4, "Column": 5},
            "EndPosition": {"Line": 4, "Column": 77},
        }
    ]
    denied = by_action["iam:GetRole"]["MatchedStatements"]
    assert denied == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "none",
            "StartPosition": {"Line": 5, "Column": 5},
            "EndPosition": {"Line": 5, "Column": 65},
        }
    ]
    assert by_action["iam:ListUsers"]["MatchedStatements"] == []
    assert allowed["ResourceSpecificResults"] == [
        {
            "EvalResourceName": "*",
            "EvalResourceDecision": "allowed",
            "MatchedStatements": allowed["MatchedStatements"],
            "MissingContextValues": [],
        }
    ]
    assert "OrganizationsDecisionDetail" not in allowed
    assert "PermissionsBoundaryDecisionDetail" not in allowed


def test_custom_policy_resources_owner_and_resource_policy(iam: Any, acct: str) -> None:
    mine, other = f"arn:aws:iam::{acct}:user/alpha", "arn:aws:iam::999999999999:user/beta"
    policy = doc({"Effect": "Allow", "Action": "iam:GetUser", "Resource": mine})
    out = iam.simulate_custom_policy(
        PolicyInputList=[policy], ActionNames=["iam:GetUser"], ResourceArns=[mine, other]
    )
    assert [(r["EvalResourceName"], r["EvalDecision"]) for r in out["EvaluationResults"]] == [
        (mine, "allowed"),
        (other, "implicitDeny"),
    ]
    # a resource of another account: the identity side and the resource policy must both allow
    bucket = "arn:aws:s3:::shared/data.txt"
    caller = f"arn:aws:iam::{acct}:user/alpha"
    reader = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    grant = doc(
        {"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject", "Resource": bucket}
    )
    base = {"PolicyInputList": [reader], "ActionNames": ["s3:GetObject"], "ResourceArns": [bucket]}
    foreign = "arn:aws:iam::999999999999:root"
    without = only(iam.simulate_custom_policy(**base, CallerArn=caller, ResourceOwner=foreign))
    assert without["EvalDecision"] == "implicitDeny"
    with_grant = only(
        iam.simulate_custom_policy(**base, CallerArn=caller, ResourceOwner=foreign, ResourcePolicy=grant)
    )
    assert with_grant["EvalDecision"] == "allowed"
    assert {m["SourcePolicyType"] for m in with_grant["MatchedStatements"]} == {"none", "resource"}
    assert "ResourcePolicy" in {m["SourcePolicyId"] for m in with_grant["MatchedStatements"]}
    # the same account: the identity policy alone suffices
    assert only(iam.simulate_custom_policy(**base, CallerArn=caller))["EvalDecision"] == "allowed"
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(**base, ResourcePolicy=grant)
    assert code_of(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(**base, CallerArn=f"arn:aws:iam::{acct}:role/r")
    assert code_of(exc) == "InvalidInput"


def test_context_entries_of_every_type(iam: Any) -> None:
    conditions = {
        "StringEquals": {"aws:username": "alice"},
        "ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]},
        "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
        "Bool": {"aws:SecureTransport": "true"},
        "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "BinaryEquals": {"custom:blob": "aGVsbG8="},
        "ForAllValues:NumericGreaterThan": {"custom:sizes": "1"},
        "ForAnyValue:IpAddress": {"custom:ips": "192.168.0.0/16"},
        "ForAnyValue:DateLessThan": {"custom:dates": "2030-01-01T00:00:00Z"},
        "ForAnyValue:Bool": {"custom:flags": "true"},
        "ForAnyValue:BinaryEquals": {"custom:blobs": "aGk="},
    }
    policy = doc({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*", "Condition": conditions})
    entries = [
        ("aws:username", ["alice"], "string"),
        ("aws:TagKeys", ["team", "cost"], "stringList"),
        ("aws:MultiFactorAuthAge", ["60"], "numeric"),
        ("aws:SecureTransport", ["TRUE"], "boolean"),
        ("aws:CurrentTime", ["2026-01-01T00:00:00Z"], "date"),
        ("aws:SourceIp", ["10.1.2.3"], "ip"),
        ("custom:blob", ["aGVsbG8="], "binary"),
        ("custom:sizes", ["2", "3"], "numericList"),
        ("custom:ips", ["192.168.1.1", "8.8.8.8"], "ipList"),
        ("custom:dates", ["2025-05-05T00:00:00Z"], "dateList"),
        ("custom:flags", ["false", "true"], "booleanList"),
        ("custom:blobs", ["aGk="], "binaryList"),
    ]

    def simulate(items: list[tuple[str, list[str], str]]) -> dict[str, Any]:
        context = [{"ContextKeyName": k, "ContextKeyValues": v, "ContextKeyType": t} for k, v, t in items]
        return only(
            iam.simulate_custom_policy(
                PolicyInputList=[policy], ActionNames=["iam:GetUser"], ContextEntries=context
            )
        )

    full = simulate(entries)
    assert full["EvalDecision"] == "allowed"
    assert full["MissingContextValues"] == []
    # one value changed: the condition fails
    assert simulate([*entries[:5], ("aws:SourceIp", ["11.1.2.3"], "ip"), *entries[6:]])["EvalDecision"] == (
        "implicitDeny"
    )
    partial = simulate(entries[2:])
    assert partial["EvalDecision"] == "implicitDeny"
    assert partial["MissingContextValues"] == ["aws:username", "aws:TagKeys"]
    for bad in [
        ("aws:MultiFactorAuthAge", ["soon"], "numeric"),
        ("aws:SecureTransport", ["yes"], "boolean"),
        ("aws:CurrentTime", ["yesterday"], "date"),
        ("aws:SourceIp", ["10.1.2"], "ip"),
        ("custom:blob", ["***"], "binary"),
        ("aws:username", ["a", "b"], "string"),
    ]:
        with pytest.raises(ClientError) as exc:
            simulate([bad])
        assert code_of(exc) == "InvalidInput", bad


def test_boundary_scps_pagination_and_options(iam: Any) -> None:
    everything = doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
    boundary = doc(ALLOW_GET)
    out = iam.simulate_custom_policy(
        PolicyInputList=[everything],
        PermissionsBoundaryPolicyInputList=[boundary],
        ActionNames=["iam:GetUser", "iam:ListUsers"],
        ResourceHandlingOption="EC2-VPC-EBS",
    )
    by_action = {r["EvalActionName"]: r for r in out["EvaluationResults"]}
    assert by_action["iam:GetUser"]["EvalDecision"] == "allowed"
    assert by_action["iam:GetUser"]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": True
    }
    assert by_action["iam:ListUsers"]["EvalDecision"] == "implicitDeny"
    assert by_action["iam:ListUsers"]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False
    }
    ids = {m["SourcePolicyId"] for m in by_action["iam:GetUser"]["MatchedStatements"]}
    assert ids == {"PolicyInputList.1", "PermissionsBoundaryPolicyInputList.1"}
    # SCP levels, root first: each level must allow
    scps = [
        {"ServiceControlPolicyInputList": [doc({"Effect": "Allow", "Action": "*", "Resource": "*"})]},
        {
            "ServiceControlPolicyInputList": [
                doc({"Effect": "Deny", "Action": "iam:GetUser", "Resource": "*"})
            ]
        },
    ]
    org = iam.simulate_custom_policy(
        PolicyInputList=[everything],
        OrderedOrganizationPolicyInputList=scps,
        ActionNames=["iam:GetUser", "iam:GetRole"],
    )
    by_action = {r["EvalActionName"]: r for r in org["EvaluationResults"]}
    assert by_action["iam:GetUser"]["EvalDecision"] == "explicitDeny"
    assert by_action["iam:GetUser"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    assert by_action["iam:GetRole"]["EvalDecision"] == "implicitDeny"  # the second level allows nothing else
    # MaxItems / Marker over the action x resource results
    actions = ["iam:GetUser", "iam:GetRole", "iam:ListUsers"]
    first = iam.simulate_custom_policy(PolicyInputList=[everything], ActionNames=actions, MaxItems=2)
    assert first["IsTruncated"] is True
    rest = iam.simulate_custom_policy(
        PolicyInputList=[everything], ActionNames=actions, MaxItems=2, Marker=first["Marker"]
    )
    assert rest["IsTruncated"] is False
    assert [r["EvalActionName"] for r in first["EvaluationResults"] + rest["EvaluationResults"]] == actions
    pages = iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[everything], ActionNames=actions, PaginationConfig={"PageSize": 1}
    )
    assert [r["EvalActionName"] for page in pages for r in page["EvaluationResults"]] == actions
    # many actions x many resources: one call evaluates only its page
    many = iam.simulate_custom_policy(
        PolicyInputList=[everything],
        ActionNames=[f"iam:GetUser{i}" for i in range(60)],
        ResourceArns=[f"arn:aws:iam::111111111111:user/u{i}" for i in range(60)],
        MaxItems=3,
    )
    assert [(r["EvalActionName"], r["EvalResourceName"]) for r in many["EvaluationResults"]] == [
        ("iam:GetUser0", f"arn:aws:iam::111111111111:user/u{i}") for i in range(3)
    ]
    assert many["IsTruncated"] is True
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=[everything], ActionNames=actions, Marker="!!not-a-marker")
    assert code_of(exc) == "ValidationError"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (
            {"PolicyInputList": ['{"Statement": {"Effect": "Maybe"}}'], "ActionNames": ["iam:GetUser"]},
            "InvalidInput",
        ),
        ({"PolicyInputList": ["not json"], "ActionNames": ["iam:GetUser"]}, "InvalidInput"),
        ({"PolicyInputList": [doc(ALLOW_GET)], "ActionNames": ["GetUser"]}, "InvalidInput"),
        (
            {
                "PolicyInputList": [doc(ALLOW_GET)],
                "ActionNames": ["iam:GetUser"],
                "ResourceHandlingOption": "Mars",
            },
            "InvalidInput",
        ),
        (
            {"PolicyInputList": [doc(ALLOW_GET)], "ActionNames": ["iam:GetUser"], "ResourceOwner": "nobody"},
            "InvalidInput",
        ),
    ],
)
def test_custom_policy_refuses_bad_input(iam: Any, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(**params)
    assert code_of(exc) == code


# --- SimulatePrincipalPolicy and context keys ------------------------------------------------


@pytest.fixture(scope="module")
def carol(iam: Any, acct: str) -> str:
    """A user with an inline policy, a group's inline policy, a customer and an AWS-managed policy,
    and a permissions boundary."""
    iam.create_user(UserName="carol")
    iam.put_user_policy(
        UserName="carol",
        PolicyName="own",
        PolicyDocument=doc(
            {
                "Effect": "Allow",
                "Action": "iam:GetUser",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            }
        ),
    )
    iam.create_group(GroupName="team")
    iam.add_user_to_group(GroupName="team", UserName="carol")
    iam.put_group_policy(
        GroupName="team",
        PolicyName="team-deny",
        PolicyDocument=doc({"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}),
    )
    managed = iam.create_policy(
        PolicyName="lister", PolicyDocument=doc({"Effect": "Allow", "Action": "iam:List*", "Resource": "*"})
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="carol", PolicyArn=managed)
    iam.attach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    bound = iam.create_policy(
        PolicyName="bound",
        PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["iam:Get*", "iam:ListUsers", "iam:Delete*"], "Resource": "*"}
        ),
    )["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="carol", PermissionsBoundary=bound)
    return f"arn:aws:iam::{acct}:user/carol"


def test_principal_policy_uses_stored_policies(iam: Any, carol: str, acct: str) -> None:
    region = [
        {
            "ContextKeyName": "aws:RequestedRegion",
            "ContextKeyValues": ["us-east-1"],
            "ContextKeyType": "string",
        }
    ]
    out = iam.simulate_principal_policy(
        PolicySourceArn=carol,
        ActionNames=["iam:GetUser", "iam:ListUsers", "iam:ListRoles", "iam:DeleteUser", "iam:CreateUser"],
        ContextEntries=region,
    )
    r = {x["EvalActionName"]: x for x in out["EvaluationResults"]}
    assert r["iam:GetUser"]["EvalDecision"] == "allowed"
    assert r["iam:ListUsers"]["EvalDecision"] == "allowed"
    assert r["iam:ListRoles"]["EvalDecision"] == "implicitDeny"  # outside the boundary
    assert r["iam:ListRoles"]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert r["iam:ListUsers"]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert r["iam:DeleteUser"]["EvalDecision"] == "explicitDeny"
    assert [
        (m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["iam:DeleteUser"]["MatchedStatements"]
    ] == [("team-deny", "group")]
    assert r["iam:CreateUser"]["EvalDecision"] == "implicitDeny"
    sources = {(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["iam:ListUsers"]["MatchedStatements"]}
    assert {
        (f"arn:aws:iam::{acct}:policy/lister", "user-managed"),
        ("arn:aws:iam::aws:policy/IAMReadOnlyAccess", "aws-managed"),
    } <= sources
    got = {(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["iam:GetUser"]["MatchedStatements"]}
    assert ("own", "user") in got
    # without the context key the user's own statement does not apply, and the key is reported missing
    plain = only(iam.simulate_principal_policy(PolicySourceArn=carol, ActionNames=["iam:GetUser"]))
    assert "aws:RequestedRegion" in plain["MissingContextValues"]
    assert ("own", "user") not in {
        (m["SourcePolicyId"], m["SourcePolicyType"]) for m in plain["MatchedStatements"]
    }
    # an input boundary replaces the stored one; excluded policies and input policies
    wide = only(
        iam.simulate_principal_policy(
            PolicySourceArn=carol,
            ActionNames=["iam:ListRoles"],
            PermissionsBoundaryPolicyInputList=[doc({"Effect": "Allow", "Action": "*", "Resource": "*"})],
        )
    )
    assert wide["EvalDecision"] == "allowed"
    excluded = only(
        iam.simulate_principal_policy(
            PolicySourceArn=carol,
            ActionNames=["iam:DeleteUser"],
            PolicyExclusionList=[
                {
                    "InlinePolicyIdentifier": {
                        "PolicyName": "team-deny",
                        "AttachmentType": "group",
                        "AttachmentName": "team",
                    }
                }
            ],
            PolicyInputList=[doc({"Effect": "Allow", "Action": "iam:DeleteUser", "Resource": "*"})],
        )
    )
    assert excluded["EvalDecision"] == "allowed"
    group = only(
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{acct}:group/team", ActionNames=["iam:DeleteUser"]
        )
    )
    assert group["EvalDecision"] == "explicitDeny"


def test_principal_policy_for_a_role(iam: Any, acct: str) -> None:
    trust = doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}
    )
    role = iam.create_role(RoleName="sim-role", Path="/team/", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="sim-role", PolicyName="reader", PolicyDocument=doc(ALLOW_GET))
    out = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["iam:GetUser", "iam:CreateUser"])
    r = {x["EvalActionName"]: x for x in out["EvaluationResults"]}
    assert r["iam:GetUser"]["EvalDecision"] == "allowed"
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["iam:GetUser"]["MatchedStatements"]] == [
        ("reader", "role")
    ]
    assert r["iam:CreateUser"]["EvalDecision"] == "implicitDeny"
    with pytest.raises(ClientError) as exc:  # the role's ARN without its path names no role
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{acct}:role/sim-role", ActionNames=["iam:GetUser"]
        )
    assert code_of(exc) == "NoSuchEntity"


def test_principal_policy_errors_and_context_keys(iam: Any, carol: str, acct: str) -> None:
    # authorization comes first: another account's principal is refused before it is looked up
    for arn, code in [
        (f"arn:aws:iam::{acct}:user/nobody", "NoSuchEntity"),
        (f"arn:aws:iam::{acct}:user/other-path/carol", "NoSuchEntity"),
        (f"arn:aws:iam::{acct}:role/none", "NoSuchEntity"),
        (f"arn:aws:iam::{acct}:policy/lister", "NoSuchEntity"),
        ("arn:aws:iam::999999999999:user/carol", "AccessDenied"),
    ]:
        with pytest.raises(ClientError) as exc:
            iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["iam:GetUser"])
        assert code_of(exc) == code, arn
        with pytest.raises(ClientError) as exc:
            iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)
        assert code_of(exc) == code, arn
    keys = iam.get_context_keys_for_principal_policy(
        PolicySourceArn=carol,
        PolicyInputList=[doc({**ALLOW_GET, "Condition": {"StringLike": {"aws:PrincipalTag/team": "x*"}}})],
    )["ContextKeyNames"]
    assert "aws:RequestedRegion" in keys and "aws:PrincipalTag/team" in keys
    custom = iam.get_context_keys_for_custom_policy(
        PolicyInputList=[
            doc(
                {
                    **ALLOW_GET,
                    "Condition": {
                        "StringEquals": {"aws:username": "a", "AWS:UserName": "b"},
                        "Bool": {"aws:SecureTransport": "true"},
                    },
                }
            ),
            doc({**ALLOW_GET, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
        ]
    )["ContextKeyNames"]
    assert custom == ["aws:username", "aws:SecureTransport", "aws:SourceIp"]
    with pytest.raises(ClientError) as exc:
        iam.get_context_keys_for_custom_policy(PolicyInputList=["{"])
    assert code_of(exc) == "InvalidInput"


def test_simulator_is_authorized(live: LiveServer, iam: Any, carol: str, acct: str) -> None:
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    auditor = live.client_for("iam", key)
    calls = {
        "SimulatePrincipalPolicy": lambda: auditor.simulate_principal_policy(
            PolicySourceArn=carol, ActionNames=["iam:GetUser"]
        ),
        "SimulateCustomPolicy": lambda: auditor.simulate_custom_policy(
            PolicyInputList=[doc(ALLOW_GET)], ActionNames=["iam:GetUser"]
        ),
        "GetContextKeysForPrincipalPolicy": lambda: auditor.get_context_keys_for_principal_policy(
            PolicySourceArn=carol
        ),
        "GetContextKeysForCustomPolicy": lambda: auditor.get_context_keys_for_custom_policy(
            PolicyInputList=[doc(ALLOW_GET)]
        ),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert code_of(exc) == "AccessDenied", name
    grant = doc(
        {
            "Effect": "Allow",
            "Action": ["iam:SimulatePrincipalPolicy", "iam:GetContextKeysForPrincipalPolicy"],
            "Resource": carol,
        },
        {
            "Effect": "Allow",
            "Action": ["iam:SimulateCustomPolicy", "iam:GetContextKeysForCustomPolicy"],
            "Resource": "*",
        },
    )
    iam.put_user_policy(UserName="auditor", PolicyName="simulate", PolicyDocument=grant)
    for name, call in calls.items():
        assert call()["ResponseMetadata"]["HTTPStatusCode"] == 200, name
    with pytest.raises(ClientError) as exc:  # another principal than the one granted
        auditor.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{acct}:user/auditor", ActionNames=["iam:GetUser"]
        )
    assert code_of(exc) == "AccessDenied"


def test_aws_cli_simulate_principal_policy(live: LiveServer, carol: str, tmp_path: Path) -> None:
    done = aws_cli(
        live,
        tmp_path,
        "iam",
        "simulate-principal-policy",
        "--policy-source-arn",
        carol,
        "--action-names",
        "iam:ListUsers",
        "iam:CreateUser",
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [
        ("iam:ListUsers", "allowed"),
        ("iam:CreateUser", "implicitDeny"),
    ]


# --- one engine: the simulator answers what enforcement decides -----------------------------

ACTIONS = ["iam:GetUser", "iam:ListUserTags"]
ACTION_PATTERNS = ["iam:GetUser", "iam:ListUserTags", "iam:Get*", "iam:*", "iam:List*", "s3:GetObject", "*"]
CONDITIONS = [
    {"StringEquals": {"aws:username": "prober"}},
    {"StringNotEquals": {"aws:username": "prober"}},
    {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    {"StringEquals": {"aws:PrincipalType": "User"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    {"Null": {"aws:username": "false"}},
]
LIVE_CONTEXT = [
    {"ContextKeyName": "aws:username", "ContextKeyValues": ["prober"], "ContextKeyType": "string"},
    {"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["us-east-1"], "ContextKeyType": "string"},
    {"ContextKeyName": "aws:PrincipalType", "ContextKeyValues": ["User"], "ContextKeyType": "string"},
]


@st.composite
def statements(draw: st.DrawFn, acct: str) -> dict[str, Any]:
    resources = [
        "*",
        f"arn:aws:iam::{acct}:user/alpha",
        f"arn:aws:iam::{acct}:user/beta",
        f"arn:aws:iam::{acct}:user/a*",
        "arn:aws:iam::*:user/*",
        f"arn:aws:iam::{acct}:role/*",
    ]
    out: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    out[draw(st.sampled_from(["Action", "Action", "NotAction"]))] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2, unique=True)
    )
    out[draw(st.sampled_from(["Resource", "Resource", "NotResource"]))] = draw(
        st.lists(st.sampled_from(resources), min_size=1, max_size=2, unique=True)
    )
    condition = draw(st.none() | st.sampled_from(CONDITIONS))
    if condition is not None:
        out["Condition"] = condition
    return out


@pytest.fixture(scope="module")
def prober(live: LiveServer, iam: Any) -> Any:
    for name in ("alpha", "beta"):
        iam.create_user(UserName=name)
    iam.create_user(UserName="prober")
    return live.client_for("iam", iam.create_access_key(UserName="prober")["AccessKey"])


def _enforced(prober: Any, action: str, target: str) -> str:
    try:
        if action == "iam:GetUser":
            prober.get_user(UserName=target)
        else:
            prober.list_user_tags(UserName=target)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied", e
        return "explicitDeny" if "explicit deny" in e.response["Error"]["Message"] else "implicitDeny"
    return "allowed"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(data=st.data())
def test_simulator_equals_enforcement(data: st.DataObject, iam: Any, prober: Any, acct: str) -> None:
    policy = doc(*data.draw(st.lists(statements(acct), min_size=1, max_size=3)))
    action = data.draw(st.sampled_from(ACTIONS))
    target = data.draw(st.sampled_from(["alpha", "beta"]))
    resource = f"arn:aws:iam::{acct}:user/{target}"
    iam.put_user_policy(UserName="prober", PolicyName="generated", PolicyDocument=policy)
    custom = only(
        iam.simulate_custom_policy(
            PolicyInputList=[policy],
            ActionNames=[action],
            ResourceArns=[resource],
            CallerArn=f"arn:aws:iam::{acct}:user/prober",
            ContextEntries=LIVE_CONTEXT,
        )
    )
    principal = only(
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{acct}:user/prober",
            ActionNames=[action],
            ResourceArns=[resource],
            ContextEntries=LIVE_CONTEXT,
        )
    )
    enforced = _enforced(prober, action, target)
    assert custom["EvalDecision"] == enforced, policy
    assert principal["EvalDecision"] == enforced, policy


def test_principal_policy_applies_the_accounts_scps(live: LiveServer, iam: Any, carol: str) -> None:
    """Last in the module: it creates the organization. A member account's user is simulated under the
    SCPs that bind its account, as enforcement decides; the management account's principals never are."""
    orgs = live.organizations()
    status = orgs.create_account(Email="sim@example.com", AccountName="sim")["CreateAccountStatus"]
    member = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    member_id = member["AccountId"]
    iam.create_user(UserName="org-operator")
    iam.attach_user_policy(UserName="org-operator", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    keys = iam.create_access_key(UserName="org-operator")["AccessKey"]
    creds = live.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole", RoleSessionName="op"
    )["Credentials"]
    member_iam = live.client_for("iam", creds)
    member_iam.create_user(UserName="worker")
    member_iam.put_user_policy(
        UserName="worker",
        PolicyName="all-iam",
        PolicyDocument=doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}),
    )
    scp = orgs.create_policy(
        Name="no-create",
        Description="d",
        Type="SERVICE_CONTROL_POLICY",
        Content=doc({"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}),
    )["Policy"]["PolicySummary"]
    orgs.attach_policy(PolicyId=scp["Id"], TargetId=member_id)
    worker = f"arn:aws:iam::{member_id}:user/worker"
    out = member_iam.simulate_principal_policy(
        PolicySourceArn=worker, ActionNames=["iam:CreateUser", "iam:GetUser"]
    )
    r = {x["EvalActionName"]: x for x in out["EvaluationResults"]}
    assert r["iam:CreateUser"]["EvalDecision"] == "explicitDeny"
    assert r["iam:CreateUser"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    assert r["iam:CreateUser"]["MatchedStatements"] == []  # the SCP's statement has no PolicySourceType
    assert r["iam:GetUser"]["EvalDecision"] == "allowed"
    assert r["iam:GetUser"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    worker_iam = live.client_for("iam", member_iam.create_access_key(UserName="worker")["AccessKey"])
    with pytest.raises(ClientError) as exc:
        worker_iam.create_user(UserName="refused")
    assert "explicit deny in a service control policy" in exc.value.response["Error"]["Message"]
    # the management account: no SCP applies, so no OrganizationsDecisionDetail
    mine = only(iam.simulate_principal_policy(PolicySourceArn=carol, ActionNames=["iam:CreateUser"]))
    assert "OrganizationsDecisionDetail" not in mine
