"""Effective management policies, merged as the Organizations User Guide's worked examples merge them.

The tag policy examples are those of "Inheritance examples" (Organizations User Guide,
"Understanding management policy inheritance": docs.aws.amazon.com/organizations/latest/userguide/
inheritance-examples.html; the text as archived in awsdocs/aws-organizations-docs,
doc_source/orgs_manage_policies_inheritance_mgmt.md). Their organization: a root, OU1 holding
accounts 111111111111 and 222222222222, OU2 holding account 999999999999. Each example's policies
and the effective policy the guide prints are written out as the guide gives them; where the
printed result contradicts the example's own text, the test asserts what the text says and says
why. The AI services opt-out and backup examples are those of "AI services opt-out policy syntax
and examples" and "Backup policy syntax and examples".
"""

from __future__ import annotations

import json
from typing import Any

from rolehop.core.effective_policy import (
    ELEMENTS_MISSING,
    LIFECYCLE_NOT_VALID,
    OPERATOR_NOT_ALLOWED,
    Attached,
    EffectivePolicy,
    effective_policy,
)
from rolehop.core.org_policy_syntax import (
    AI_OPT_OUT_POLICY,
    BACKUP_POLICY,
    TAG_POLICY,
    management_policy_fault,
)

POLICY_A = {  # Organization root tag policy
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@assign": ["Development", "Support"]},
        }
    }
}
POLICY_B = {  # OU1 tag policy
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@assign": ["Sandbox"]},
            "enforced_for": {"@@assign": ["redshift:*", "dynamodb:table"]},
        }
    }
}
POLICY_C = {  # OU2 tag policy for appending values
    "tags": {
        "costcenter": {
            "tag_key": {"@@assign": "CostCenter"},
            "tag_value": {"@@append": ["Marketing"]},
            "enforced_for": {"@@append": ["redshift:*", "dynamodb:table"]},
        }
    }
}
POLICY_E = {  # Organization root tag policy for restricting changes in child policies
    "tags": {
        "project": {
            "tag_key": {"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": "Project"},
            "tag_value": {
                "@@operators_allowed_for_child_policies": ["@@append"],
                "@@assign": ["Maintenance", "Escalations"],
            },
        }
    }
}
POLICY_F = {  # OU tag policy
    "tags": {
        "project": {
            "tag_key": {"@@assign": "PROJECT"},
            "tag_value": {"@@append": ["Escalations - research"]},
        }
    }
}


def merged(*levels: list[tuple[str, dict[str, Any]]], policy_type: str = TAG_POLICY) -> EffectivePolicy:
    return effective_policy([[Attached(i, d) for i, d in level] for level in levels], policy_type)


def test_the_guides_policies_are_valid_tag_policies() -> None:
    for policy in (POLICY_A, POLICY_B, POLICY_C, POLICY_E, POLICY_F):
        assert management_policy_fault(TAG_POLICY, json.dumps(policy)) is None


def test_example_1_a_child_overwrites_only_tag_values() -> None:
    """Policy A on the root, policy B on OU1: the effective tag policy of 111111111111."""
    effective = merged([("p-a", POLICY_A)], [("p-b", POLICY_B)], [])
    assert effective.document == {
        "tags": {
            "costcenter": {
                "tag_key": "CostCenter",
                "tag_value": ["Sandbox"],
                "enforced_for": ["redshift:*", "dynamodb:table"],
            }
        }
    }
    assert effective.errors == ()


def test_example_2_append_new_values_to_inherited_tags() -> None:
    """Policy A on the root, policy C on OU2: the effective tag policy of 999999999999."""
    effective = merged([("p-a", POLICY_A)], [("p-c", POLICY_C)], [])
    assert effective.document == {
        "tags": {
            "costcenter": {
                "tag_key": "CostCenter",
                "tag_value": ["Development", "Support", "Marketing"],
                "enforced_for": ["redshift:*", "dynamodb:table"],
            }
        }
    }


def test_example_3_remove_values_from_inherited_tags() -> None:
    """Policy D on account 999999999999, with A on the root and C on OU2 ("assuming you performed
    all of the previous examples"). The guide prints policy D with `enforced_for` inside
    `tag_value`, which no tag policy may hold (a setting holds operators only) and which its own
    text contradicts ("Compliance is not enforced for the CostCenter tag key" needs the inherited
    enforced_for removed): `enforced_for` is written as the sibling of `tag_value` here."""
    printed_d = {
        "tags": {
            "costcenter": {
                "tag_key": {"@@assign": "CostCenter"},
                "tag_value": {
                    "@@remove": ["Development", "Marketing"],
                    "enforced_for": {"@@remove": ["redshift:*", "dynamodb:table"]},
                },
            }
        }
    }
    assert management_policy_fault(TAG_POLICY, json.dumps(printed_d)) is not None
    policy_d = {
        "tags": {
            "costcenter": {
                "tag_key": {"@@assign": "CostCenter"},
                "tag_value": {"@@remove": ["Development", "Marketing"]},
                "enforced_for": {"@@remove": ["redshift:*", "dynamodb:table"]},
            }
        }
    }
    assert management_policy_fault(TAG_POLICY, json.dumps(policy_d)) is None
    effective = merged([("p-a", POLICY_A)], [("p-c", POLICY_C)], [("p-d", policy_d)])
    assert effective.document == {"tags": {"costcenter": {"tag_key": "CostCenter", "tag_value": ["Support"]}}}
    # "If you later add more accounts to OU2, their effective tag policies would be different"
    assert merged([("p-a", POLICY_A)], [("p-c", POLICY_C)], []).document["tags"]["costcenter"][
        "tag_value"
    ] == [
        "Development",
        "Support",
        "Marketing",
    ]


def test_example_4_restrict_changes_to_child_policies() -> None:
    """Policy E on the root, policy F on an OU: F "attempts to change the case treatment, but it
    can't", and may append. The guide prints the key as "project", though E assigns "Project" and
    F could not change it: the effective key is E's "Project"."""
    effective = merged([("p-e", POLICY_E)], [("p-f", POLICY_F)], [])
    assert effective.document == {
        "tags": {
            "project": {
                "tag_key": "Project",
                "tag_value": ["Maintenance", "Escalations", "Escalations - research"],
            }
        }
    }
    (error,) = effective.errors  # F's refused @@assign makes the effective policy invalid
    assert error.code == OPERATOR_NOT_ALLOWED
    assert error.path == "tags.project.tag_key"
    assert error.policies == ("p-f", "p-e")


def test_example_5_conflicts_with_child_control_operators() -> None:
    """G and H on the root: the intersection of what they allow (append, not remove) binds children."""
    policy_g = {
        "tags": {
            "project": {
                "tag_value": {
                    "@@operators_allowed_for_child_policies": ["@@append"],
                    "@@assign": ["Maintenance"],
                }
            }
        }
    }
    policy_h = {
        "tags": {
            "project": {"tag_value": {"@@operators_allowed_for_child_policies": ["@@append", "@@remove"]}}
        }
    }
    appends = {"tags": {"project": {"tag_value": {"@@append": ["Research"]}}}}
    removes = {"tags": {"project": {"tag_value": {"@@remove": ["Maintenance"]}}}}
    effective = merged([("p-g", policy_g), ("p-h", policy_h)], [("p-1", appends), ("p-2", removes)])
    assert effective.document == {"tags": {"project": {"tag_value": ["Maintenance", "Research"]}}}
    # the refusal names the child and the parent whose limit excludes @@remove (G; H allows it)
    assert [(e.code, e.policies) for e in effective.errors] == [(OPERATOR_NOT_ALLOWED, ("p-2", "p-g"))]


def test_example_6_conflicts_with_appending_values_at_the_same_level() -> None:
    """J attached to the root first, then K: "the tag key PROJECT is used in the effective tag policy
    because the policy that defined it was attached to the organization root first". The guide's
    printed result (" PROJECT", and an "Escalations" value no policy names) is not what J and K
    make: PROJECT and J's one value."""
    policy_j = {
        "tags": {"project": {"tag_key": {"@@assign": "PROJECT"}, "tag_value": {"@@append": ["Maintenance"]}}}
    }
    policy_k = {"tags": {"project": {"tag_key": {"@@assign": "project"}}}}
    effective = merged([("p-j", policy_j), ("p-k", policy_k)], [])
    assert effective.document == {"tags": {"project": {"tag_key": "PROJECT", "tag_value": ["Maintenance"]}}}
    # attached the other way round, K's spelling stands
    flipped = merged([("p-k", policy_k), ("p-j", policy_j)], [])
    assert flipped.document["tags"]["project"]["tag_key"] == "project"


def test_a_lower_level_cannot_lift_a_limit() -> None:
    """ "If an inherited child control operator limits the use of an operator, you can't reverse that
    rule in a child policy": @@all lower down leaves the root's @@none in force."""
    root = {
        "tags": {
            "team": {"tag_key": {"@@assign": "Team", "@@operators_allowed_for_child_policies": ["@@none"]}}
        }
    }
    ou = {"tags": {"team": {"tag_key": {"@@operators_allowed_for_child_policies": ["@@all"]}}}}
    account = {"tags": {"team": {"tag_key": {"@@assign": "TEAM"}}}}
    effective = merged([("p-r", root)], [("p-o", ou)], [("p-a", account)])
    assert effective.document == {"tags": {"team": {"tag_key": "Team"}}}
    assert effective.errors[0].policies == ("p-a", "p-r")


def test_policy_keys_match_whatever_their_case() -> None:
    """The guide's tag policy example 1: policy A on the root names CostCenter and Project, policy
    B on an account names their values; keys match case-insensitively, spelled as the root spells
    them."""
    policy_a = {
        "tags": {
            "CostCenter": {
                "tag_key": {"@@assign": "CostCenter", "@@operators_allowed_for_child_policies": ["@@none"]}
            },
            "Project": {
                "tag_key": {"@@assign": "Project", "@@operators_allowed_for_child_policies": ["@@none"]}
            },
        }
    }
    policy_b = {
        "tags": {
            "costcenter": {"tag_value": {"@@assign": ["Production", "Test"]}},
            "PROJECT": {"tag_value": {"@@assign": ["A", "B"]}},
        }
    }
    effective = merged([("p-a", policy_a)], [], [("p-b", policy_b)])
    assert effective.document == {
        "tags": {
            "CostCenter": {"tag_key": "CostCenter", "tag_value": ["Production", "Test"]},
            "Project": {"tag_key": "Project", "tag_value": ["A", "B"]},
        }
    }
    assert effective.errors == ()


AI_PARENT = {  # AI services opt-out example 2: organization root parent policy
    "services": {
        "default": {
            "@@operators_allowed_for_child_policies": ["@@none"],
            "opt_out_policy": {"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": "optOut"},
        }
    }
}
AI_CHILD = {"services": {"lex": {"opt_out_policy": {"@@assign": "optIn"}}}}


def test_ai_opt_out_a_child_opts_in_to_one_service() -> None:
    """ "The account opts in to only Amazon Lex, and opts out of all other AWS AI services because of
    the inherited default opt-out setting from the parent policy"."""
    effective = merged([("p-parent", AI_PARENT)], [], [("p-child", AI_CHILD)], policy_type=AI_OPT_OUT_POLICY)
    assert effective.document == {
        "services": {"default": {"opt_out_policy": "optOut"}, "lex": {"opt_out_policy": "optIn"}}
    }
    assert effective.errors == ()


def test_ai_opt_out_locked_sections_refuse_new_services() -> None:
    """AI services opt-out example 1: @@none under `services` "prevents any child policy from adding
    any new sections for individual services other than the default section"."""
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
    effective = merged([("p-root", locked)], [("p-ou", AI_CHILD)], policy_type=AI_OPT_OUT_POLICY)
    assert effective.document == {"services": {"default": {"opt_out_policy": "optOut"}}}
    assert [(e.code, e.path, e.policies) for e in effective.errors] == [
        (OPERATOR_NOT_ALLOWED, "services.lex", ("p-ou", "p-root"))
    ]


def _plan(**parts: Any) -> dict[str, Any]:
    return {"plans": {"PII_Backup_Plan": parts}}


COMPLETE_PLAN = _plan(
    regions={"@@append": ["us-east-1", "ap-northeast-3", "eu-north-1"]},
    rules={
        "Hourly": {
            "schedule_expression": {"@@assign": "cron(0 0/1 ? * * *)"},
            "start_backup_window_minutes": {"@@assign": "60"},
            "target_backup_vault_name": {"@@assign": "FortKnox"},
            "lifecycle": {
                "move_to_cold_storage_after_days": {"@@assign": "28"},
                "delete_after_days": {"@@assign": "180"},
            },
        }
    },
    selections={
        "tags": {
            "datatype": {
                "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/MyIamRole"},
                "tag_key": {"@@assign": "dataType"},
                "tag_value": {"@@assign": ["PII", "RED"]},
            }
        }
    },
)


def test_backup_a_parent_and_a_child_plan_merge() -> None:
    """Backup example 2: a parent's plan and a child's plan both reach the account."""
    child = {
        "plans": {
            "Monthly_Backup_Plan": {
                "regions": {"@@append": ["us-east-1", "eu-central-1"]},
                "rules": {
                    "Monthly": {
                        "schedule_expression": {"@@assign": "cron(0 5 1 * ? *)"},
                        "target_backup_vault_name": {"@@assign": "Default"},
                    }
                },
                "selections": {
                    "tags": {
                        "MonthlyDatatype": {
                            "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/MyMonthlyBackupIamRole"},
                            "tag_key": {"@@assign": "BackupType"},
                            "tag_value": {"@@assign": ["MONTHLY", "RED"]},
                        }
                    }
                },
            }
        }
    }
    assert management_policy_fault(BACKUP_POLICY, json.dumps(COMPLETE_PLAN)) is None
    assert management_policy_fault(BACKUP_POLICY, json.dumps(child)) is None
    effective = merged([("p-parent", COMPLETE_PLAN)], [("p-child", child)], policy_type=BACKUP_POLICY)
    plans = effective.document["plans"]
    assert set(plans) == {"PII_Backup_Plan", "Monthly_Backup_Plan"}
    assert plans["PII_Backup_Plan"]["regions"] == ["us-east-1", "ap-northeast-3", "eu-north-1"]
    assert plans["Monthly_Backup_Plan"]["regions"] == ["us-east-1", "eu-central-1"]
    assert plans["PII_Backup_Plan"]["selections"]["tags"]["datatype"]["tag_value"] == ["PII", "RED"]
    assert effective.errors == ()


def test_backup_an_incomplete_or_impossible_plan_is_invalid() -> None:
    """ "There must be an inherited parent policy that provides the other required settings ...
    Otherwise, the effective backup policy contains a backup plan that is not valid"; a recovery
    point stays in cold storage at least 90 days."""
    child_only = _plan(rules={"Daily": {"schedule_expression": {"@@assign": "cron(0 5 ? * * *)"}}})
    effective = merged([], [("p-child", child_only)], policy_type=BACKUP_POLICY)
    assert [(e.code, e.path) for e in effective.errors] == [
        (ELEMENTS_MISSING, "plans.PII_Backup_Plan"),
        (ELEMENTS_MISSING, "plans.PII_Backup_Plan.rules.Daily"),
    ]
    assert "regions" in effective.errors[0].message and effective.errors[0].policies == ("p-child",)
    too_soon = {
        "plans": {
            "PII_Backup_Plan": {
                "rules": {"Hourly": {"lifecycle": {"delete_after_days": {"@@assign": "100"}}}}
            }
        }
    }
    effective = merged([("p-parent", COMPLETE_PLAN)], [("p-child", too_soon)], policy_type=BACKUP_POLICY)
    assert [(e.code, e.path, e.policies) for e in effective.errors] == [
        (LIFECYCLE_NOT_VALID, "plans.PII_Backup_Plan.rules.Hourly.lifecycle", ("p-child", "p-parent"))
    ]


def test_nothing_attached_is_an_empty_document() -> None:
    assert merged([], [], []).document == {}
    removed = merged(
        [("p-a", {"tags": {"x": {"tag_value": {"@@assign": ["a"]}}}})],
        [("p-b", {"tags": {"x": {"tag_value": {"@@remove": ["a"]}}}})],
    )
    assert removed.document == {}  # a list left empty and a section left bare are not shown
