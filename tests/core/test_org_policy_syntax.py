"""What CreatePolicy accepts for each policy type: the management types against their syntax pages of
the Organizations User Guide ("Tag policy syntax and examples", "Backup policy syntax and examples",
"AI services opt-out policy syntax and examples", "Declarative policy syntax and examples",
"Understanding management policy inheritance"), resource control policies against "RCP syntax",
and the quotas of "Quotas for AWS Organizations"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolehop.core.errors import ConstraintViolationException, MalformedPolicyDocumentException
from rolehop.core.org_policy_syntax import (
    AI_OPT_OUT_POLICY,
    ATTACHED_MAX,
    BACKUP_POLICY,
    CHATBOT_POLICY,
    CONTENT_MAX,
    DECLARATIVE_EC2_POLICY,
    GUARDDUTY_POLICY,
    MANAGEMENT_POLICY_TYPES,
    POLICIES_MAX,
    POLICY_TYPES,
    TAG_POLICY,
    management_policy_fault,
)
from rolehop.core.organization import RCP, SCP
from rolehop.core.policy.validate import SCP_MALFORMED, validate_policy

TAG_SYNTAX_EXAMPLE = {  # "Tag policy syntax": the basic tag policy
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@assign": ["100", "200"]},
            "enforced_for": {"@@assign": ["secretsmanager:*"]},
        }
    }
}
SECONDARY_VAULT = "arn:aws:backup:us-west-2:$account:backup-vault:My_Secondary_Vault"
BACKUP_SYNTAX_EXAMPLE = {  # "Backup policy syntax": the functionally complete policy
    "plans": {
        "PII_Backup_Plan": {
            "rules": {
                "My_Hourly_Rule": {
                    "schedule_expression": {"@@assign": "cron(0 5 ? * * *)"},
                    "start_backup_window_minutes": {"@@assign": "60"},
                    "complete_backup_window_minutes": {"@@assign": "604800"},
                    "enable_continuous_backup": {"@@assign": False},
                    "target_backup_vault_name": {"@@assign": "My_Backup_Vault"},
                    "recovery_point_tags": {
                        "Owner": {"tag_key": {"@@assign": "Owner"}, "tag_value": {"@@assign": "Backup"}}
                    },
                    "lifecycle": {
                        "move_to_cold_storage_after_days": {"@@assign": "180"},
                        "delete_after_days": {"@@assign": "270"},
                    },
                    "copy_actions": {
                        SECONDARY_VAULT: {
                            "target_backup_vault_arn": {"@@assign": SECONDARY_VAULT},
                            "lifecycle": {
                                "move_to_cold_storage_after_days": {"@@assign": "180"},
                                "delete_after_days": {"@@assign": "270"},
                            },
                        }
                    },
                }
            },
            "regions": {"@@append": ["us-east-1", "eu-north-1"]},
            "selections": {
                "tags": {
                    "My_Backup_Assignment": {
                        "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/MyIamRole"},
                        "tag_key": {"@@assign": "dataType"},
                        "tag_value": {"@@assign": ["PII", "RED"]},
                    }
                }
            },
            "advanced_backup_settings": {"ec2": {"windows_vss": {"@@assign": "enabled"}}},
            "backup_plan_tags": {
                "stage": {"tag_key": {"@@assign": "Stage"}, "tag_value": {"@@assign": "Beta"}}
            },
        }
    }
}
AI_SYNTAX_EXAMPLE = {  # "AI services opt-out policy syntax": the organization-root example
    "services": {
        "default": {"opt_out_policy": {"@@assign": "optOut"}},
        "comprehend": {
            "opt_out_policy": {"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": "optOut"}
        },
        "rekognition": {"opt_out_policy": {"@@assign": "optIn"}},
    }
}
EC2_EXAMPLE = {  # "Declarative policy syntax": supported attributes
    "ec2_attributes": {
        "exception_message": {"@@assign": "Your custom error message.https://myURL"},
        "vpc_block_public_access": {
            "internet_gateway_block": {
                "mode": {"@@assign": "block_ingress"},
                "exclusions_allowed": {"@@assign": "enabled"},
            }
        },
        "serial_console_access": {"status": {"@@assign": "enabled"}},
        "image_block_public_access": {"state": {"@@assign": "block_new_sharing"}},
        "instance_metadata_defaults": {
            "http_tokens": {"@@assign": "required"},
            "http_put_response_hop_limit": {"@@assign": "4"},
            "http_endpoint": {"@@assign": "enabled"},
            "instance_metadata_tags": {"@@assign": "enabled"},
        },
        "snapshot_block_public_access": {"state": {"@@assign": "block_all_sharing"}},
        "allowed_images_settings": {
            "state": {"@@assign": "enabled"},
            "image_criteria": {"criteria_1": {"allowed_image_providers": {"@@append": ["amazon"]}}},
        },
    }
}
CHATBOT_EXAMPLE = {
    "chatbot": {
        "platforms": {
            "slack": {"client": {"@@assign": "enabled"}, "workspaces": {"@@assign": ["T0123456789"]}},
            "microsoft_teams": {"client": {"@@assign": "disabled"}},
        }
    }
}


def fault(policy_type: str, document: Any) -> str | None:
    return management_policy_fault(
        policy_type, document if isinstance(document, str) else json.dumps(document)
    )


@pytest.mark.parametrize(
    ("policy_type", "document"),
    [
        (TAG_POLICY, TAG_SYNTAX_EXAMPLE),
        (BACKUP_POLICY, BACKUP_SYNTAX_EXAMPLE),
        (AI_OPT_OUT_POLICY, AI_SYNTAX_EXAMPLE),
        (DECLARATIVE_EC2_POLICY, EC2_EXAMPLE),
        (CHATBOT_POLICY, CHATBOT_EXAMPLE),
        (
            GUARDDUTY_POLICY,
            {"guardduty": {"auto_enable": {"@@assign": "ALL"}, "regions": {"@@append": ["a"]}}},
        ),
    ],
)
def test_the_guides_examples_are_accepted(policy_type: str, document: dict[str, Any]) -> None:
    assert fault(policy_type, document) is None


def _tag(**entry: Any) -> dict[str, Any]:
    return {"tags": {"costcenter": entry}}


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ("not json", "not valid JSON"),
        ("[]", "JSON object"),
        ({}, "JSON object"),
        ({"costcenter": {}}, "starts with the key 'tags'"),
        ({"tags": {}, "@@assign": "x"}, "top of a policy"),
        (
            _tag(tag_key={"@@assign": "CostCenter", "@@replace": "x"}),
            "@@replace is not an inheritance operator",
        ),
        (_tag(tag_key={"@@append": ["CostCenter"]}), "takes only @@assign"),
        (_tag(tag_key={"@@assign": ["CostCenter"]}), "takes a string"),
        (_tag(tag_key={"@@assign": "Owner"}), "must match the policy key"),
        (_tag(tag_key={"@@assign": ""}), "1 to 128"),
        (_tag(tag_value={"@@assign": "100"}), "list of strings"),
        (_tag(tag_value={"@@assign": ["*@*.com"]}), "one '*' at most"),
        (_tag(tag_value={"@@assign": ["a"], "@@append": ["b"]}), "can't be combined"),
        (_tag(enforced_for={"@@assign": ["*:*"]}), "not service:resource"),
        (_tag(enforced_for={"@@assign": ["redshift"]}), "not service:resource"),
        (_tag(tag_value={"@@assign": ["a"]}, colour={"@@assign": "x"}), "'colour' is not a key"),
        (_tag(tag_value={"@@assign": ["a"], "extra": {}}), "operators only"),
        (_tag(tag_value={"@@operators_allowed_for_child_policies": ["@@none", "@@append"]}), "stand alone"),
        (_tag(tag_value={"@@operators_allowed_for_child_policies": ["@@everything"]}), "not allowed"),
        (_tag(tag_value={"@@operators_allowed_for_child_policies": "@@none"}), "list of operators"),
        ({"tags": {"costcenter": {"@@assign": "x"}}}, "is a section"),
        ({"tags": {"costcenter": "CostCenter"}}, "JSON object"),
    ],
)
def test_tag_policies_refused(document: Any, why: str) -> None:
    found = fault(TAG_POLICY, document)
    assert found is not None and why in found, found


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({"services": {"lex": {"opt_out_policy": {"@@assign": "optout"}}}}, "not one of optIn, optOut"),
        ({"services": {"lex": {"opt_out_policy": {"@@append": ["optOut"]}}}}, "takes only @@assign"),
        ({"services": {"chess": {"opt_out_policy": {"@@assign": "optOut"}}}}, "'chess' is not a key"),
        ({"services": {"lex": {}}}, "must contain 'opt_out_policy'"),
        (
            {"services": {"lex": {"opt_out_policy": {"@@assign": "optIn"}, "extra": {}}}},
            "'extra' is not a key",
        ),
        (
            {"services": {"@@operators_allowed_for_child_policies": ["@@append"]}},
            "'@@append' is not allowed",
        ),
    ],
)
def test_ai_opt_out_policies_refused(document: Any, why: str) -> None:
    """Only opt_out_policy under a documented service, only @@assign of optOut / optIn, child
    control @@assign or @@none ("You can't use the @@append and @@remove inheritance operators")."""
    found = fault(AI_OPT_OUT_POLICY, document)
    assert found is not None and why in found, found


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({"plans": {"P": {"regions": {"@@assign": "us-east-1"}}}}, "list of strings"),
        ({"plans": {"P": {"schedule": {}}}}, "'schedule' is not a key"),
        (
            {"plans": {"P": {"rules": {"R": {"start_backup_window_minutes": {"@@assign": "soon"}}}}}},
            "whole number",
        ),
        (
            {"plans": {"P": {"rules": {"R": {"enable_continuous_backup": {"@@assign": "yes"}}}}}},
            "true or false",
        ),
        (
            {"plans": {"P": {"advanced_backup_settings": {"ec2": {"windows_vss": {"@@assign": "on"}}}}}},
            "not one of disabled, enabled",
        ),
    ],
)
def test_backup_policies_refused(document: Any, why: str) -> None:
    found = fault(BACKUP_POLICY, document)
    assert found is not None and why in found, found


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({"ec2_attributes": {"serial_console_access": {"status": {"@@assign": "on"}}}}, "not one of"),
        ({"ec2_attributes": {"quantum_access": {}}}, "'quantum_access' is not a key"),
        (
            {
                "ec2_attributes": {
                    "instance_metadata_defaults": {"http_put_response_hop_limit": {"@@assign": 65}}
                }
            },
            "out of range",
        ),
        ({"ec2": {}}, "starts with the key 'ec2_attributes'"),
    ],
)
def test_declarative_policies_refused(document: Any, why: str) -> None:
    found = fault(DECLARATIVE_EC2_POLICY, document)
    assert found is not None and why in found, found


def test_generic_types_check_operators_and_values() -> None:
    """The newer types (here GuardDuty) and the chat applications policy below `chatbot`: sections and
    settings, known operators, scalar or list values."""
    assert fault(GUARDDUTY_POLICY, {"guardduty": {"x": {"@@assign": {"nested": 1}}}}) is not None
    assert fault(GUARDDUTY_POLICY, {"guardduty": {"x": {"@@append": "one"}}}) is not None
    assert fault(GUARDDUTY_POLICY, {"guardduty": {"x": {"@@assign": [1, True, "a"]}}}) is None
    assert fault(CHATBOT_POLICY, {"platforms": {}}) is not None  # the chatbot key comes first


def test_quotas() -> None:
    """ "Quotas for AWS Organizations": document sizes, policies per type, policies per target."""
    assert set(POLICY_TYPES) == {SCP, RCP, *MANAGEMENT_POLICY_TYPES} and len(POLICY_TYPES) == 15
    assert (CONTENT_MAX[SCP], CONTENT_MAX[RCP], CONTENT_MAX[AI_OPT_OUT_POLICY]) == (5120, 5120, 2500)
    assert (
        CONTENT_MAX[TAG_POLICY] == CONTENT_MAX[BACKUP_POLICY] == CONTENT_MAX[DECLARATIVE_EC2_POLICY] == 10_000
    )
    assert (POLICIES_MAX[SCP], POLICIES_MAX[TAG_POLICY]) == (10_000, 1000)
    assert (ATTACHED_MAX[SCP], ATTACHED_MAX[RCP], ATTACHED_MAX[TAG_POLICY], ATTACHED_MAX[BACKUP_POLICY]) == (
        5,
        5,
        10,
        10,
    )


# --- resource control policies ------------------------------------------------------------------


def rcp(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version:
        doc["Version"] = version
    return json.dumps(doc)


DENY_EXTERNAL = {  # "RCP syntax": deny access to S3 by principals outside the organization
    "Sid": "EnforceOrgIdentities",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:AssumeRole"],
    "Resource": "*",
    "Condition": {
        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdef0123"},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    },
}


def test_a_valid_rcp_is_accepted() -> None:
    validate_policy(rcp(DENY_EXTERNAL), "rcp", max_chars=5120)
    validate_policy(rcp({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}), "rcp")
    with pytest.raises(MalformedPolicyDocumentException):  # as an SCP, Principal is refused
        validate_policy(rcp(DENY_EXTERNAL), "scp")


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (rcp(DENY_EXTERNAL, version=None), 'Version element with the value "2012-10-17"'),
        (rcp(DENY_EXTERNAL, version="2008-10-17"), 'Version element with the value "2012-10-17"'),
        (rcp({**DENY_EXTERNAL, "Effect": "Allow"}), "only supported for the RCPFullAWSAccess"),
        (rcp({**DENY_EXTERNAL, "Principal": {"AWS": "111122223333"}}), 'must be "*"'),
        (
            rcp({k: v for k, v in DENY_EXTERNAL.items() if k != "Principal"}),
            "Missing required field Principal",
        ),
        (
            rcp(
                {**{k: v for k, v in DENY_EXTERNAL.items() if k != "Principal"}, "NotPrincipal": {"AWS": "*"}}
            ),
            "NotPrincipal",
        ),
        (
            rcp({**{k: v for k, v in DENY_EXTERNAL.items() if k != "Action"}, "NotAction": "s3:GetObject"}),
            "NotAction",
        ),
        (rcp({**DENY_EXTERNAL, "Action": "iam:CreateUser"}), "RCPs apply only to the actions of"),
        (rcp({**DENY_EXTERNAL, "Action": "ec2:*"}), "RCPs apply only to the actions of"),
    ],
)
def test_invalid_rcps_are_refused_as_organizations_refuses_them(document: str, why: str) -> None:
    with pytest.raises(MalformedPolicyDocumentException) as caught:
        validate_policy(document, "rcp", max_chars=5120)
    assert caught.value.message == SCP_MALFORMED
    assert why in caught.value.__notes__[0]


def test_an_rcp_past_its_size_quota() -> None:
    padded = rcp({**DENY_EXTERNAL, "Sid": "x" * 5120})
    with pytest.raises(ConstraintViolationException) as caught:
        validate_policy(padded, "rcp", max_chars=5120)
    assert caught.value.fields == {"Reason": "POLICY_CONTENT_LIMIT_EXCEEDED"}
