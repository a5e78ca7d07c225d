"""Every Organizations policy type through real boto3 clients (and the AWS CLI once): enabling and
disabling types in the root, CreatePolicy of each type valid and invalid, attachment quotas and the
AWS-managed FullAWSAccess / RCPFullAWSAccess, an RCP enforced on a live AssumeRole, and effective
management policies (DescribeEffectivePolicy through an OU tree, the user guide's tag policy
examples, invalid effective policies and their validation errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trail_support import module_server

from rolehop.core.org_policy_syntax import MANAGEMENT_POLICY_TYPES, POLICY_TYPES
from support import LiveServer, aws_cli, management_operator, member_credentials, org_error

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
TAG = "TAG_POLICY"
AI = "AISERVICES_OPT_OUT_POLICY"
SERVICE_OF = {  # policy types that work through a trusted service
    "SECURITYHUB_POLICY": "securityhub.amazonaws.com",
    "INSPECTOR_POLICY": "inspector2.amazonaws.com",
    "GUARDDUTY_POLICY": "guardduty.amazonaws.com",
}
VALID: dict[str, dict[str, Any]] = {
    SCP: {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]},
    RCP: {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}],
    },
    "TAG_POLICY": {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"}}}},
    "BACKUP_POLICY": {"plans": {"Daily": {"regions": {"@@assign": ["us-east-1"]}}}},
    "AISERVICES_OPT_OUT_POLICY": {"services": {"default": {"opt_out_policy": {"@@assign": "optOut"}}}},
    "CHATBOT_POLICY": {"chatbot": {"platforms": {"slack": {"client": {"@@assign": "disabled"}}}}},
    "DECLARATIVE_POLICY_EC2": {
        "ec2_attributes": {"serial_console_access": {"status": {"@@assign": "disabled"}}}
    },
}
INVALID: dict[str, dict[str, Any]] = {
    SCP: {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}],
    },
    RCP: {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
    "TAG_POLICY": {"tags": {"costcenter": {"tag_key": {"@@append": ["CostCenter"]}}}},
    "BACKUP_POLICY": {"plans": {"Daily": {"regions": {"@@assign": "us-east-1"}}}},
    "AISERVICES_OPT_OUT_POLICY": {"services": {"default": {"opt_out_policy": {"@@assign": "optout"}}}},
    "CHATBOT_POLICY": {"chat": {}},
    "DECLARATIVE_POLICY_EC2": {"ec2_attributes": {"serial_console_access": {"status": {"@@assign": "on"}}}},
}
MALFORMED = "The provided policy document does not meet the requirements of the specified policy type."


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("policy_types") / "data") as server:
        server.organizations()
        yield server


@pytest.fixture(scope="module")
def orgs(live: LiveServer) -> Any:
    return live.client("organizations")


@pytest.fixture(scope="module")
def root(orgs: Any) -> str:
    return orgs.list_roots()["Roots"][0]["Id"]


@pytest.fixture(scope="module")
def tree(orgs: Any, root: str) -> dict[str, str]:
    """root -> ou1 -> ou1a (account a); root -> ou2 (account b); account c under the root."""
    made: dict[str, str] = {}
    for name in ("a", "b", "c"):
        status = orgs.create_account(Email=f"{name}@example.com", AccountName=f"member-{name}")
        request = orgs.describe_create_account_status(
            CreateAccountRequestId=status["CreateAccountStatus"]["Id"]
        )
        made[name] = request["CreateAccountStatus"]["AccountId"]
    made["ou1"] = orgs.create_organizational_unit(ParentId=root, Name="ou1")["OrganizationalUnit"]["Id"]
    made["ou1a"] = orgs.create_organizational_unit(ParentId=made["ou1"], Name="ou1a")["OrganizationalUnit"][
        "Id"
    ]
    made["ou2"] = orgs.create_organizational_unit(ParentId=root, Name="ou2")["OrganizationalUnit"]["Id"]
    orgs.move_account(AccountId=made["a"], SourceParentId=root, DestinationParentId=made["ou1a"])
    orgs.move_account(AccountId=made["b"], SourceParentId=root, DestinationParentId=made["ou2"])
    return made


@pytest.fixture(scope="module")
def operator(live: LiveServer) -> dict[str, str]:
    return management_operator(live)


def create(orgs: Any, name: str, policy_type: str, content: Any) -> str:
    text = content if isinstance(content, str) else json.dumps(content)
    policy = orgs.create_policy(Name=name, Description="", Type=policy_type, Content=text)
    return policy["Policy"]["PolicySummary"]["Id"]


def types_of(orgs: Any) -> dict[str, str]:
    return {t["Type"]: t["Status"] for t in orgs.list_roots()["Roots"][0]["PolicyTypes"]}


def enable(orgs: Any, root: str, policy_type: str) -> None:
    if policy_type not in types_of(orgs):
        orgs.enable_policy_type(RootId=root, PolicyType=policy_type)


def test_enable_and_disable_every_policy_type(orgs: Any, root: str) -> None:
    """CreateOrganization(ALL) enabled SCPs only; every type of the model can be enabled and
    disabled, a service's type once its trusted access is on."""
    assert types_of(orgs) == {SCP: "ENABLED"}
    code, _, _ = org_error(lambda: orgs.enable_policy_type(RootId=root, PolicyType=SCP))
    assert code == "PolicyTypeAlreadyEnabledException"
    code, _, _ = org_error(lambda: orgs.enable_policy_type(RootId="r-zzzz", PolicyType=TAG))
    assert code == "RootNotFoundException"
    code, _, _ = org_error(lambda: orgs.disable_policy_type(RootId=root, PolicyType=TAG))
    assert code == "PolicyTypeNotEnabledException"
    for policy_type, service in SERVICE_OF.items():
        code, reason, _ = org_error(lambda t=policy_type: orgs.enable_policy_type(RootId=root, PolicyType=t))
        assert (code, reason) == ("ConstraintViolationException", "SERVICE_ACCESS_NOT_ENABLED")
        orgs.enable_aws_service_access(ServicePrincipal=service)
    for policy_type in POLICY_TYPES:
        if policy_type != SCP:
            answer = orgs.enable_policy_type(RootId=root, PolicyType=policy_type)["Root"]
            assert {"Type": policy_type, "Status": "ENABLED"} in answer["PolicyTypes"]
    assert types_of(orgs) == dict.fromkeys(POLICY_TYPES, "ENABLED")
    for policy_type in POLICY_TYPES:
        if policy_type != SCP:
            answer = orgs.disable_policy_type(RootId=root, PolicyType=policy_type)["Root"]
            assert policy_type not in {t["Type"] for t in answer["PolicyTypes"]}
    assert types_of(orgs) == {SCP: "ENABLED"}


def test_create_policy_of_each_type(orgs: Any) -> None:
    """Each type's documents are checked as that type; a policy may be created before its type is
    enabled (only attaching needs it)."""
    for policy_type in VALID:
        policy_id = create(orgs, f"valid-{policy_type.lower()}", policy_type, VALID[policy_type])
        described = orgs.describe_policy(PolicyId=policy_id)["Policy"]
        assert described["PolicySummary"]["Type"] == policy_type
        assert ":policy/o-" in described["PolicySummary"]["Arn"]
        assert described["PolicySummary"]["Arn"].endswith(f"/{policy_type.lower()}/{policy_id}")
        assert json.loads(described["Content"]) == VALID[policy_type]
        code, _, message = org_error(lambda t=policy_type: create(orgs, "invalid", t, INVALID[t]))
        assert (code, message) == ("MalformedPolicyDocumentException", MALFORMED), policy_type
        code, _, _ = org_error(
            lambda i=policy_id, t=policy_type: orgs.update_policy(PolicyId=i, Content=json.dumps(INVALID[t]))
        )
        assert code == "MalformedPolicyDocumentException"
    # the generic check for the newer types
    create(orgs, "guardduty", "GUARDDUTY_POLICY", {"guardduty": {"auto_enable": {"@@assign": "ALL"}}})
    code, _, _ = org_error(
        lambda: create(orgs, "bad-gd", "GUARDDUTY_POLICY", {"guardduty": {"@@assign": {"a": 1}}})
    )
    assert code == "MalformedPolicyDocumentException"
    # size quotas: 2,500 characters for AI services opt-out policies, 5,120 for RCPs
    big = json.dumps({"services": {"default": {"opt_out_policy": {"@@assign": "optOut"}}}}) + " " * 2500
    assert org_error(lambda: create(orgs, "big", AI, big))[:2] == (
        "ConstraintViolationException",
        "POLICY_CONTENT_LIMIT_EXCEEDED",
    )
    assert org_error(lambda: create(orgs, "big", RCP, json.dumps(VALID[RCP]) + " " * 5120))[1] == (
        "POLICY_CONTENT_LIMIT_EXCEEDED"
    )
    code, _, _ = org_error(lambda: create(orgs, f"valid-{TAG.lower()}", TAG, VALID[TAG]))
    assert code == "DuplicatePolicyException"
    code, reason, _ = org_error(lambda: orgs.update_policy(PolicyId="p-FullAWSAccess", Name="mine"))
    assert (code, reason) == ("InvalidInputException", "IMMUTABLE_POLICY")
    code, reason, _ = org_error(lambda: orgs.delete_policy(PolicyId="p-FullAWSAccess"))
    assert (code, reason) == ("InvalidInputException", "IMMUTABLE_POLICY")
    # ListPolicies pages
    first = orgs.list_policies(Filter=SCP, MaxResults=1)
    second = orgs.list_policies(Filter=SCP, MaxResults=1, NextToken=first["NextToken"])
    assert {p["Name"] for p in first["Policies"] + second["Policies"]} == {
        "FullAWSAccess",
        "valid-service_control_policy",
    }
    assert "NextToken" not in second


def test_attachment_needs_the_type_enabled_and_keeps_to_quotas(
    orgs: Any, root: str, tree: dict[str, str]
) -> None:
    tag_policy = create(orgs, "attach-tag", TAG, {"tags": {"team": {"tag_key": {"@@assign": "Team"}}}})
    code, _, _ = org_error(lambda: orgs.attach_policy(PolicyId=tag_policy, TargetId=tree["c"]))
    assert code == "PolicyTypeNotEnabledException"
    enable(orgs, root, TAG)
    orgs.attach_policy(PolicyId=tag_policy, TargetId=tree["c"])
    for i in range(9):  # ten tag policies per target
        extra = create(orgs, f"tag-{i}", TAG, {"tags": {f"k{i}": {"tag_key": {"@@assign": f"K{i}"}}}})
        orgs.attach_policy(PolicyId=extra, TargetId=tree["c"])
    one_more = create(orgs, "tag-eleven", TAG, {"tags": {"k11": {"tag_key": {"@@assign": "K11"}}}})
    code, reason, _ = org_error(lambda: orgs.attach_policy(PolicyId=one_more, TargetId=tree["c"]))
    assert (code, reason) == ("ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    listed = orgs.list_policies_for_target(TargetId=tree["c"], Filter=TAG, MaxResults=4)
    assert len(listed["Policies"]) == 4 and "NextToken" in listed
    # five SCPs per target, FullAWSAccess among them
    for i in range(4):
        scp = create(
            orgs,
            f"scp-{i}",
            SCP,
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": f"ec2:Op{i}", "Resource": "*"}],
            },
        )
        orgs.attach_policy(PolicyId=scp, TargetId=tree["ou2"])
    fifth = create(
        orgs,
        "scp-5",
        SCP,
        VALID[SCP] | {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
    )
    code, reason, _ = org_error(lambda: orgs.attach_policy(PolicyId=fifth, TargetId=tree["ou2"]))
    assert (code, reason) == ("ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    # disabling a type detaches all its policies; enabling it again attaches none of them
    orgs.disable_policy_type(RootId=root, PolicyType=TAG)
    assert orgs.list_targets_for_policy(PolicyId=tag_policy)["Targets"] == []
    assert orgs.list_policies_for_target(TargetId=tree["c"], Filter=TAG)["Policies"] == []
    orgs.enable_policy_type(RootId=root, PolicyType=TAG)
    assert orgs.list_targets_for_policy(PolicyId=tag_policy)["Targets"] == []
    orgs.disable_policy_type(RootId=root, PolicyType=TAG)


def test_full_aws_access_is_attached_everywhere(
    orgs: Any, root: str, tree: dict[str, str], live: LiveServer
) -> None:
    """FullAWSAccess (and RCPFullAWSAccess once RCPs are on) is attached to the root, every OU and
    every account; replacing FullAWSAccess on one target leaves the others; RCPFullAWSAccess can't be
    detached."""
    everything = {
        root,
        tree["ou1"],
        tree["ou1a"],
        tree["ou2"],
        tree["a"],
        tree["b"],
        tree["c"],
        live.account_id,
    }
    targets = orgs.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]
    assert {t["TargetId"] for t in targets} == everything
    by_id = {t["TargetId"]: t for t in targets}
    assert by_id[root]["Type"] == "ROOT" and by_id[root]["Name"] == "Root"
    assert (by_id[tree["ou1a"]]["Type"], by_id[tree["ou1a"]]["Name"]) == ("ORGANIZATIONAL_UNIT", "ou1a")
    assert (by_id[tree["a"]]["Type"], by_id[tree["a"]]["Name"]) == ("ACCOUNT", "member-a")
    page = orgs.list_targets_for_policy(PolicyId="p-FullAWSAccess", MaxResults=3)
    rest = orgs.list_targets_for_policy(PolicyId="p-FullAWSAccess", NextToken=page["NextToken"])
    assert {t["TargetId"] for t in page["Targets"] + rest["Targets"]} == everything
    replacement = create(
        orgs,
        "ec2-only",
        SCP,
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]},
    )
    orgs.attach_policy(PolicyId=replacement, TargetId=tree["ou1"])
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=tree["ou1"])
    targets = {t["TargetId"] for t in orgs.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]}
    assert targets == everything - {tree["ou1"]}
    assert [t["TargetId"] for t in orgs.list_targets_for_policy(PolicyId=replacement)["Targets"]] == [
        tree["ou1"]
    ]
    code, reason, _ = org_error(lambda: orgs.detach_policy(PolicyId=replacement, TargetId=tree["ou1"]))
    assert (code, reason) == ("ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    orgs.attach_policy(PolicyId="p-FullAWSAccess", TargetId=tree["ou1"])
    orgs.detach_policy(PolicyId=replacement, TargetId=tree["ou1"])
    # RCPs
    assert orgs.list_targets_for_policy(PolicyId="p-RCPFullAWSAccess")["Targets"] == []
    enable(orgs, root, RCP)
    targets = orgs.list_targets_for_policy(PolicyId="p-RCPFullAWSAccess")["Targets"]
    assert {t["TargetId"] for t in targets} == everything
    for_account = orgs.list_policies_for_target(TargetId=tree["b"], Filter=RCP)["Policies"]
    assert [(p["Id"], p["AwsManaged"]) for p in for_account] == [("p-RCPFullAWSAccess", True)]
    code, reason, _ = org_error(lambda: orgs.detach_policy(PolicyId="p-RCPFullAWSAccess", TargetId=tree["b"]))
    assert (code, reason) == ("InvalidInputException", "NON_DETACHABLE_POLICY")


DENY_ASSUME_ROLE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoRoleSessions",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "platform"}},
        }
    ],
}


def test_an_rcp_with_principal_star_is_accepted_and_enforced(
    live: LiveServer, orgs: Any, root: str, tree: dict[str, str], operator: dict[str, str]
) -> None:
    """An RCP on a member account denies AssumeRole of its roles to every principal it names, the
    management account's included; other accounts' roles are untouched; RCPs are refused as SCPs
    (Principal) and as Allow statements."""
    enable(orgs, root, RCP)
    code, _, _ = org_error(lambda: create(orgs, "as-scp", SCP, DENY_ASSUME_ROLE))
    assert code == "MalformedPolicyDocumentException"
    allow = {**DENY_ASSUME_ROLE, "Statement": [{**DENY_ASSUME_ROLE["Statement"][0], "Effect": "Allow"}]}
    assert org_error(lambda: create(orgs, "allow", RCP, allow))[0] == "MalformedPolicyDocumentException"
    rcp = create(orgs, "no-role-sessions", RCP, DENY_ASSUME_ROLE)
    member_credentials(live, operator, tree["c"])
    orgs.attach_policy(PolicyId=rcp, TargetId=tree["c"])
    assert {p["Name"] for p in orgs.list_policies_for_target(TargetId=tree["c"], Filter=RCP)["Policies"]} == {
        "RCPFullAWSAccess",
        "no-role-sessions",
    }
    code, _, message = org_error(lambda: member_credentials(live, operator, tree["c"]))
    assert code == "AccessDenied"
    # STS names no policy type in an AssumeRole denial (as AWS); the RCP is what changed
    assert "is not authorized to perform: sts:AssumeRole on resource" in message, message
    member_credentials(live, operator, tree["b"])  # another member's roles
    live.client("iam").tag_user(UserName="operator", Tags=[{"Key": "team", "Value": "platform"}])
    member_credentials(live, operator, tree["c"])  # the RCP's condition exempts the platform team
    live.client("iam").untag_user(UserName="operator", TagKeys=["team"])
    orgs.detach_policy(PolicyId=rcp, TargetId=tree["c"])
    member_credentials(live, operator, tree["c"])


POLICY_A = {
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@assign": ["Development", "Support"]},
        }
    }
}
POLICY_B = {
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@assign": ["Sandbox"]},
            "enforced_for": {"@@assign": ["redshift:*", "dynamodb:table"]},
        }
    }
}
POLICY_C = {
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@append": ["Marketing"]},
            "enforced_for": {"@@append": ["redshift:*", "dynamodb:table"]},
        }
    }
}
POLICY_D = {  # as the guide means it (enforced_for beside tag_value: tests/core/test_effective_policy.py)
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@remove": ["Development", "Marketing"]},
            "enforced_for": {"@@remove": ["redshift:*", "dynamodb:table"]},
        }
    }
}


def effective(client: Any, policy_type: str, target: str | None = None) -> dict[str, Any]:
    params = {"PolicyType": policy_type} | ({"TargetId": target} if target else {})
    found = client.describe_effective_policy(**params)["EffectivePolicy"]
    assert found["PolicyType"] == policy_type
    return json.loads(found["PolicyContent"])


def test_describe_effective_policy_through_an_ou_tree(
    live: LiveServer, orgs: Any, root: str, tree: dict[str, str], operator: dict[str, str], tmp_path: Path
) -> None:
    """The user guide's tag policy examples 1-3 ("Inheritance examples") on a live organization: A on
    the root, B on ou1 (account a sits in ou1's child ou1a), C on ou2 and D on account b."""
    enable(orgs, root, TAG)
    code, _, _ = org_error(lambda: orgs.describe_effective_policy(PolicyType=TAG, TargetId=tree["a"]))
    assert code == "EffectivePolicyNotFoundException"  # nothing attached yet
    for name, content, target in (
        ("A", POLICY_A, root),
        ("B", POLICY_B, tree["ou1"]),
        ("C", POLICY_C, tree["ou2"]),
        ("D", POLICY_D, tree["b"]),
    ):
        orgs.attach_policy(PolicyId=create(orgs, f"example-{name}", TAG, content), TargetId=target)
    assert effective(orgs, TAG, tree["a"]) == {  # example 1
        "tags": {
            "costcenter": {
                "tag_key": "CostCenter",
                "tag_value": ["Sandbox"],
                "enforced_for": ["redshift:*", "dynamodb:table"],
            }
        }
    }
    assert effective(orgs, TAG, tree["b"]) == {  # example 3 (D on top of example 2)
        "tags": {"costcenter": {"tag_key": "CostCenter", "tag_value": ["Support"]}}
    }
    root_only = {"tags": {"costcenter": {"tag_key": "CostCenter", "tag_value": ["Development", "Support"]}}}
    assert effective(orgs, TAG, tree["c"]) == root_only
    assert effective(orgs, TAG) == root_only  # the management account's own (management policies bind it)
    # example 2: another account moved into ou2 gets A + C, not D
    orgs.move_account(AccountId=tree["c"], SourceParentId=root, DestinationParentId=tree["ou2"])
    assert effective(orgs, TAG, tree["c"])["tags"]["costcenter"]["tag_value"] == [
        "Development",
        "Support",
        "Marketing",
    ]
    orgs.move_account(AccountId=tree["c"], SourceParentId=tree["ou2"], DestinationParentId=root)
    # a member asks for its own effective policy, and only its own
    member = live.client_for("organizations", member_credentials(live, operator, tree["a"]))
    assert effective(member, TAG)["tags"]["costcenter"]["tag_value"] == ["Sandbox"]
    assert org_error(lambda: member.describe_effective_policy(PolicyType=TAG, TargetId=tree["b"]))[0] == (
        "AccessDeniedException"
    )
    code, reason, _ = org_error(lambda: orgs.describe_effective_policy(PolicyType=TAG, TargetId=tree["ou1"]))
    assert (code, reason) == ("InvalidInputException", "TARGET_NOT_SUPPORTED")
    code, _, _ = org_error(
        lambda: orgs.describe_effective_policy(PolicyType="BACKUP_POLICY", TargetId=tree["a"])
    )
    assert code == "EffectivePolicyNotFoundException"  # not enabled
    code, _, _ = org_error(lambda: orgs.describe_effective_policy(PolicyType=TAG, TargetId="111111111111"))
    assert code == "TargetNotFoundException"
    # the AWS CLI, as an operator would ask
    done = aws_cli(
        live,
        tmp_path,
        "organizations",
        "describe-effective-policy",
        "--policy-type",
        TAG,
        "--target-id",
        tree["a"],
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)["EffectivePolicy"]
    assert answer["TargetId"] == tree["a"] and answer["PolicyType"] == TAG
    assert json.loads(answer["PolicyContent"])["tags"]["costcenter"]["tag_value"] == ["Sandbox"]
    orgs.disable_policy_type(RootId=root, PolicyType=TAG)


def test_invalid_effective_policies_and_their_errors(
    orgs: Any, root: str, tree: dict[str, str], live: LiveServer
) -> None:
    """AI services opt-out example 1 locks the root's policy; a child policy that opts account a in
    to Lex is left out of a's effective policy, which is therefore invalid."""
    enable(orgs, root, AI)
    assert orgs.list_accounts_with_invalid_effective_policy(PolicyType=AI)["Accounts"] == []
    locked = {
        "services": {
            "@@operators_allowed_for_child_policies": ["@@none"],
            "default": {
                "@@operators_allowed_for_child_policies": ["@@none"],
                "opt_out_policy": {
                    "@@operators_allowed_for_child_policies": ["@@none"],
                    "@@assign": "optOut",
                },
            },
        }
    }
    locked_id = create(orgs, "opt-out-locked", AI, locked)
    child_id = create(
        orgs, "lex-opt-in", AI, {"services": {"lex": {"opt_out_policy": {"@@assign": "optIn"}}}}
    )
    orgs.attach_policy(PolicyId=locked_id, TargetId=root)
    orgs.attach_policy(PolicyId=child_id, TargetId=tree["ou1a"])
    assert effective(orgs, AI, tree["a"]) == {"services": {"default": {"opt_out_policy": "optOut"}}}
    invalid = orgs.list_accounts_with_invalid_effective_policy(PolicyType=AI)
    assert invalid["PolicyType"] == AI
    assert [(a["Id"], a["Name"]) for a in invalid["Accounts"]] == [(tree["a"], "member-a")]
    found = orgs.list_effective_policy_validation_errors(AccountId=tree["a"], PolicyType=AI)
    org_id = orgs.describe_organization()["Organization"]["Id"]
    assert found["AccountId"] == tree["a"] and found["PolicyType"] == AI
    assert found["Path"] == f"{org_id}/{root}/{tree['ou1']}/{tree['ou1a']}/{tree['a']}/"
    assert [
        (e["ErrorCode"], e["PathToError"], e["ContributingPolicies"])
        for e in found["EffectivePolicyValidationErrors"]
    ] == [("OPERATOR_NOT_ALLOWED", "services.lex", [child_id, locked_id])]
    assert (
        orgs.list_effective_policy_validation_errors(AccountId=tree["b"], PolicyType=AI)[
            "EffectivePolicyValidationErrors"
        ]
        == []
    )
    code, _, _ = org_error(
        lambda: orgs.list_effective_policy_validation_errors(AccountId="111111111111", PolicyType=AI)
    )
    assert code == "AccountNotFoundException"
    orgs.detach_policy(PolicyId=child_id, TargetId=tree["ou1a"])
    assert orgs.list_accounts_with_invalid_effective_policy(PolicyType=AI)["Accounts"] == []


def test_consolidated_billing_has_no_policy_types(server: LiveServer) -> None:
    orgs = server.client("organizations")
    orgs.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    root = orgs.list_roots()["Roots"][0]
    assert root["PolicyTypes"] == []
    for policy_type in (SCP, *MANAGEMENT_POLICY_TYPES[:2]):
        code, _, _ = org_error(lambda t=policy_type: orgs.enable_policy_type(RootId=root["Id"], PolicyType=t))
        assert code == "PolicyTypeNotAvailableForOrganizationException"
    code, _, _ = org_error(lambda: create(orgs, "tags", TAG, VALID[TAG]))
    assert code == "PolicyTypeNotAvailableForOrganizationException"
