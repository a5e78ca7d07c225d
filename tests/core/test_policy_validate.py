"""Write-time policy validation: every rule, per policy kind, with AWS's messages.

Documents are written from the IAM User Guide ("IAM JSON policy element reference",
"IAM and AWS STS quotas"), the Organizations user guide and AWS's published error messages.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolehop.core.errors import (
    AwsError,
    ConstraintViolationException,
    LimitExceeded,
    MalformedPolicyDocument,
    ValidationError,
)
from rolehop.core.policy.validate import (
    GROUP_INLINE_MAX,
    MANAGED_POLICY_MAX,
    ROLE_INLINE_MAX,
    SCP_MALFORMED,
    SCP_MAX,
    SESSION_POLICY_MAX,
    TRUST_POLICY_MAX,
    USER_INLINE_MAX,
    PolicyKind,
    inline_policy_too_large,
    policy_size,
    validate_policy,
)

ACCOUNT = "111122223333"
SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
OLD_VERSION = "Policy document must be version 2012-10-17 or greater."
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
SID_CHARSET = (
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
    "[0-9A-Za-z]*"
)


def stmt(**fields: Any) -> dict[str, Any]:
    """An identity statement that is valid until `fields` change it (None removes a field)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    statement.update(fields)
    return {k: v for k, v in statement.items() if v is not None}


def trust_stmt(**fields: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
    statement.update(fields)
    return {k: v for k, v in statement.items() if v is not None}


def doc(*statements: Any, version: str | None = "2012-10-17", **top: Any) -> str:
    body: dict[str, Any] = {} if version is None else {"Version": version}
    body.update(top)
    body["Statement"] = list(statements)
    return json.dumps(body)


def rejection(document: str, kind: PolicyKind = "identity", **options: Any) -> str:
    with pytest.raises(MalformedPolicyDocument) as caught:
        validate_policy(document, kind, **options)
    assert caught.value.code in ("MalformedPolicyDocument", "MalformedPolicyDocumentException")
    assert caught.value.status == 400
    return caught.value.message


# --- identity policies: documents AWS accepts ---------------------------------------------------

SELF_MANAGE = doc(
    {
        "Sid": "AllowManageOwnAccessKeys",
        "Effect": "Allow",
        "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys"],
        "Resource": "arn:aws:iam::*:user/${aws:username}",
    },
    {
        "Sid": "DenyAllExceptListedIfNoMFA",
        "Effect": "Deny",
        "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "sts:GetSessionToken"],
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    },
)


@pytest.mark.parametrize(
    "document",
    [
        SELF_MANAGE,
        json.dumps({"Version": "2012-10-17", "Statement": stmt()}),  # a lone statement object
        doc(stmt(Action="*", Resource=["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"])),
        doc(stmt(Effect="Deny", Action="s3:*", NotResource=["arn:aws:s3:::HR/*"], Resource=None)),
        doc(stmt(NotAction="iam:*", Action=None, NotResource="*", Resource=None)),
        doc(stmt(Action=["ec2:Describe*", "s3:?et*", "*:Get*", "iam: spaced name "])),
        doc(stmt(Resource=["arn:aws:dynamodb:*:*:table/Music", "arn:aws:ec2:us-east-1::image/*"])),
        doc(stmt(Resource="arn:aws:s3:us-west-2:111122223333:accesspoint/reports")),
        doc(stmt(Resource=["arn:aws-cn:s3:::bucket", "arn:aws-us-gov:iam::111122223333:role/admin"])),
        doc(stmt(Resource=["arn:aws:iam::aws:policy/ReadOnlyAccess", f"arn:aws:iam::{ACCOUNT}:*"])),
        doc(stmt(Resource=["arn:aws:kms:*:111122223333:key/*", None])),  # IAM ignores nulls
        doc(stmt(Sid="ReadReports1"), stmt(Sid="WriteReports2"), stmt(Sid=""), stmt(Sid="")),
        doc(stmt(Condition={})),
        doc(stmt(Condition={"StringEquals": {}})),
        doc(stmt(Condition={"UnknownOperator": {}})),  # nothing to evaluate
        doc(stmt(Condition={"StringLike": {"s3:prefix": ["", "home/${aws:userid}/*"]}})),
        doc(stmt(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["Project", "Team"]}})),
        doc(stmt(Condition={"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "Project"}})),
        doc(stmt(Condition={"Bool": {"aws:SecureTransport": True}, "Null": {"aws:TokenIssueTime": False}})),
        doc(stmt(Condition={"NumericLessThanEquals": {"s3:max-keys": 10}})),
        doc(stmt(Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}})),
        doc(stmt(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ops-*"}})),
        doc(
            stmt(
                Condition={
                    "DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                    "DateLessThan": {"aws:CurrentTime": ["2020-06-30T23:59:59.999+02:00", "2031"]},
                    "DateEquals": {"aws:TokenIssueTime": ["1735689600000", "2024-12-31t22:00-05:00"]},
                }
            )
        ),
        doc(stmt(Condition={"DateLessThanEquals": {"aws:EpochTime": 1735689600}})),
    ],
)
def test_identity_policies_aws_accepts(document: str) -> None:
    validate_policy(document, "identity")


def test_inline_identity_policies_accept_the_older_language_version() -> None:
    validate_policy(doc(stmt(), version="2008-10-17"), "identity", managed=False)
    validate_policy(doc(stmt(), version=None), "identity", managed=False)


# --- identity policies: grammar ------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "This is not JSON",
        doc(stmt())[:-1],
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",}]}',  # trailing comma
        "[" + doc(stmt()) + "]",
        '"policy"',
        doc(stmt(Condition={"NumericEquals": {"k": "x"}})).replace('"x"', "NaN"),
        doc(stmt(), Extra="field"),
        doc(stmt(), Id=["not", "a", "string"]),
        doc(stmt(), version="2013-10-17"),
        json.dumps({"Version": "2012-10-17", "Id": "NoStatement"}),
        json.dumps({"Version": "2012-10-17"}),
        doc(),
        json.dumps({"Version": "2012-10-17", "Statement": "Allow"}),
        doc("not a statement"),
        doc(stmt(Extra="field")),
        doc(stmt(Effect=None)),
        doc(stmt(Effect="Permit")),
        doc(stmt(Effect=True)),
        doc(stmt(NotAction="s3:PutObject")),  # Action and NotAction together
        doc(stmt(NotResource="arn:aws:s3:::b")),  # Resource and NotResource together
        doc(stmt(Action={"s3": "GetObject"})),
        doc(stmt(Action=[["s3:GetObject"]])),
        doc(stmt(Resource=["arn:aws:s3:::b", {}])),
        doc(stmt(Resource=7)),
        doc(stmt(Sid=["a"])),
        doc(stmt(Sid={})),
    ],
)
def test_grammar_faults_are_syntax_errors(document: str) -> None:
    assert rejection(document) == SYNTAX


@pytest.mark.parametrize(
    "condition",
    [
        [],
        "aws:SecureTransport",
        {"StringEquals": "aws:username"},
        {"StringEquals": []},
        {"StringEquals": {"aws:username": {}}},
        {"StringEquals": {"aws:username": [["a"]]}},
        {"StringEquals": {"aws:username": None}},
        {"StringEqualz": {"aws:username": "a"}},  # unknown operator
        {"stringequals": {"aws:username": "a"}},  # operators are case-sensitive
        {"ForAnyValue::StringEquals": {"aws:TagKeys": "a"}},
        {"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}},
        {"NullIfExists": {"aws:TokenIssueTime": "true"}},  # IfExists fits every operator but Null
        {"StringEqualsIfExistsIfExists": {"aws:username": "a"}},
    ],
)
def test_condition_block_faults_are_syntax_errors(condition: Any) -> None:
    assert rejection(doc(stmt(Condition=condition))) == SYNTAX


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_managed_policies_need_the_current_language_version(version: str | None) -> None:
    assert rejection(doc(stmt(), version=version)) == OLD_VERSION


@pytest.mark.parametrize("principal", ["Principal", "NotPrincipal"])
def test_identity_policies_name_no_principal(principal: str) -> None:
    document = doc(stmt(**{principal: {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}))
    assert rejection(document) == "Policy document should not specify a principal."


@pytest.mark.parametrize(
    "statement",
    [
        stmt(Effect="allow"),  # Effect is case-sensitive in IAM's legacy parser
        stmt(Effect="DENY"),
        stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}),
        stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2020-13-01"}}),
        stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2020-02-32"}}),
        stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T24:00:00Z"}}),
        stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T10:60"}}),
        stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T10:00:00+1"}}),
        stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T10:00:00.1234567890Z"}}),
        stmt(Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T10:00:00Zulu"}}),
        stmt(Condition={"ForAnyValue:DateEqualsIfExists": {"aws:CurrentTime": ["2020", "x"]}}),
        stmt(Condition={"DateLessThan": {"aws:EpochTime": "9223372036854775808"}}),
        stmt(Condition={"DateLessThan": {"aws:EpochTime": True}}),
        stmt(Resource="arn:aws:s3::bucket"),  # '::' in an ARN of fewer than six fields
        stmt(Resource="arn:aws::::bucket"),  # empty service
        stmt(Resource=["arn:aws::::bucket"]),
        stmt(NotResource="arn:aws:s3::bucket", Resource=None),
        stmt(Action=None, Resource="arn:aws:s3::bucket"),  # before "must contain actions"
    ],
)
def test_legacy_parser_faults(statement: dict[str, Any]) -> None:
    assert rejection(doc(statement)) == LEGACY


def test_statement_ids_must_be_unique() -> None:
    document = doc(stmt(Sid="Read"), stmt(Sid="Read", Action=None))  # before "must contain actions"
    assert rejection(document) == "Statement IDs (SID) in a single policy must be unique."


@pytest.mark.parametrize("sid", ["Allow-Read", "allow_read", "Allow Read", "Lesen\u00e4"])
def test_statement_ids_are_alphanumeric(sid: str) -> None:
    assert rejection(doc(stmt(Sid=sid))) == SID_CHARSET


@pytest.mark.parametrize("action", [None, [], [None]])
def test_statements_need_actions(action: Any) -> None:
    document = doc(stmt(), stmt(Action=action))
    assert rejection(document) == "Policy statement must contain actions."


@pytest.mark.parametrize("resource", [None, []])
def test_identity_statements_need_resources(resource: Any) -> None:
    assert rejection(doc(stmt(Resource=resource))) == "Policy statement must contain resources."


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("GetObject", VENDOR),
        ("", VENDOR),
        (":GetObject", VENDOR),
        ("s3:Get:Object", "Actions/Condition can contain only one colon."),
        ("s3 :GetObject", "Vendor s3  is not valid"),
        ("s3*:GetObject", "Vendor s3* is not valid"),
        ("s3_x:GetObject", "Vendor s3_x is not valid"),
    ],
)
def test_action_names(action: str, message: str) -> None:
    assert rejection(doc(stmt(Action=["s3:ListBucket", action]))) == message
    assert rejection(doc(stmt(NotAction=action, Action=None))) == message


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("bucket", 'Resource bucket must be in ARN format or "*".'),
        ("", 'Resource  must be in ARN format or "*".'),
        ("arn:amazon:s3:::bucket", 'Partition "amazon" is not valid for resource "arn:amazon:s3:::bucket".'),
        ("s3:::bucket", 'Partition "" is not valid for resource "arn:::bucket:*:*".'),
        ("arn:x", 'Partition "x" is not valid for resource "arn:x:*:*:*:*".'),
        ("arn:x:s3:r:a:b:c", 'Partition "x" is not valid for resource "arn:x:s3:r:a:b:c".'),
        ("arn:aws", "Resource vendor must be fully qualified and cannot contain regexes."),
        ("arn:aws:*:::thing", "Resource vendor must be fully qualified and cannot contain regexes."),
        ("arn:aws:s3?:::bucket", "Resource vendor must be fully qualified and cannot contain regexes."),
        (
            "arn:aws:iam:us-east-1:111122223333:user/alice",
            "IAM resource arn:aws:iam:us-east-1:111122223333:user/alice cannot contain region information.",
        ),
        (
            "arn:aws:s3:eu-west-1::bucket",
            "Resource arn:aws:s3:eu-west-1::bucket can not contain region information.",
        ),
    ],
)
def test_resource_arns(resource: str, message: str) -> None:
    assert rejection(doc(stmt(Resource=resource))) == message


@pytest.mark.parametrize("resource", ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:users/a"])
def test_iam_resource_paths_name_a_resource_type(resource: str) -> None:
    message = rejection(doc(stmt(Resource=resource)))
    assert message.startswith(
        'IAM resource path must either be "*" or start with user/, federated-user/, role/'
    )
    assert message.endswith("report/, access-report/.")


def test_of_several_faulty_arns_the_first_in_sorted_order_is_reported() -> None:
    document = doc(stmt(Resource=["arn:bad:s3:::b", "arn:aws:s3:eu-west-1::b", "arn:Bad:s3:::b"]))
    assert rejection(document) == 'Partition "Bad" is not valid for resource "arn:Bad:s3:::b".'


def test_order_missing_actions_before_arn_format() -> None:
    document = doc(stmt(Resource="bucket"), stmt(Action=None))
    assert rejection(document) == "Policy statement must contain actions."


def test_order_arn_format_before_action_names() -> None:
    document = doc(stmt(Action="GetObject", Resource="bucket"))
    assert rejection(document) == 'Resource bucket must be in ARN format or "*".'


def test_order_action_names_before_missing_resources() -> None:
    document = doc(stmt(Action="GetObject", Resource=None))
    assert rejection(document) == VENDOR


def test_order_legacy_parsing_before_arn_format() -> None:
    document = doc(stmt(Resource="arn:x:s3:::b", Condition={"DateLessThan": {"aws:CurrentTime": "never"}}))
    assert rejection(document) == LEGACY


def test_order_version_before_everything_but_syntax() -> None:
    assert rejection(doc(stmt(Effect="allow", Action="GetObject"), version=None)) == OLD_VERSION
    assert rejection(doc(stmt(Effect="Permit"), version=None)) == SYNTAX


# --- session policies ----------------------------------------------------------------------------


def test_session_policies_follow_the_identity_grammar() -> None:
    validate_policy(doc(stmt(Resource="arn:aws:s3:::reports/*")), "session")
    validate_policy(doc(stmt(), version=None), "session")
    assert rejection(doc(stmt(Principal="*")), "session") == "Policy document should not specify a principal."
    assert rejection(doc(stmt(Resource=None)), "session") == "Policy statement must contain resources."
    assert rejection(doc(stmt(Action="GetObject")), "session") == VENDOR


# --- resource-based policies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        {"Principal": "*"},
        {"Principal": {"AWS": "*"}},
        {"Principal": {"AWS": [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/division/alice"]}},
        {"Principal": {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice@example.com"}},
        {"Principal": {"Service": ["cloudtrail.amazonaws.com", "states.us-east-1.amazonaws.com"]}},
        {"Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}},
        {"NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Effect": "Deny"},
    ],
)
def test_resource_policies_aws_accepts(principal: dict[str, Any]) -> None:
    validate_policy(doc(stmt(Resource="arn:aws:s3:::bucket/*", **principal), version=None), "resource")


def test_resource_policies_name_a_principal() -> None:
    assert rejection(doc(stmt()), "resource") == "Missing required field Principal"
    assert rejection(doc(stmt(Principal={})), "resource") == "Missing required field Principal"


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"AWS": "arn:aws:iam::111122223333:role/*"}, '"AWS":"arn:aws:iam::111122223333:role/*"'),
        ({"AWS": "alice"}, '"AWS":"alice"'),
        ({"Service": "EC2.amazonaws.com"}, '"SERVICE":"EC2.amazonaws.com"'),
        ({"Everyone": "*"}, '"EVERYONE":"*"'),
    ],
)
def test_resource_policy_principals(principal: dict[str, str], message: str) -> None:
    document = doc(stmt(Principal=principal))
    assert rejection(document, "resource") == "Invalid principal in policy: " + message


# --- trust policies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        trust_stmt(),
        trust_stmt(Principal={"AWS": ACCOUNT}, Sid="Cross-account access"),
        trust_stmt(Principal={"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}),
        trust_stmt(
            Principal={"AWS": "*"},
            Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        ),
        trust_stmt(Principal="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
        trust_stmt(
            Principal={
                "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
            },
            Action="sts:AssumeRoleWithWebIdentity",
            Condition={"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/repo:*"}},
        ),
        trust_stmt(
            Principal={"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/ExampleOrgSSO"},
            Action=["sts:AssumeRoleWithSAML", "sts:TagSession"],
        ),
        trust_stmt(Principal={"Federated": "cognito-identity.amazonaws.com"}, Action="sts:AssumeRoleWith*"),
        trust_stmt(Action=["sts:AssumeRole", "sts:SetSourceIdentity", "sts:SetContext"]),
        trust_stmt(Action="sts:*"),
        trust_stmt(Action="*"),
        trust_stmt(Effect="Deny", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/mallory"}),
        trust_stmt(Principal={"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/Ops/alice"}),
    ],
)
def test_trust_policies_aws_accepts(statement: dict[str, Any]) -> None:
    validate_policy(doc(statement), "trust")


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_trust_policies_accept_the_older_language_version(version: str | None) -> None:
    validate_policy(doc(trust_stmt(), version=version), "trust")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"Statement": [{"Effect": "Allow",}]}', "This policy contains invalid Json"),
        ("[]", "This policy contains invalid Json"),
        (doc(trust_stmt(), version="2012-10-18"), "The policy must contain a valid version string"),
        (doc(trust_stmt(), Extra=1), "Syntax error in policy."),
        (doc(), "Could not parse the policy: Statement is empty!"),
        (json.dumps({"Version": "2012-10-17"}), "Could not parse the policy: Statement is empty!"),
        (doc(trust_stmt(Sid="A"), trust_stmt(Sid="A")), "The Statement Ids in the policy are not unique"),
        (doc(trust_stmt(Effect=None)), "Missing required field Effect"),
        (doc(trust_stmt(Effect="allow")), "Invalid effect: allow"),
        (doc(trust_stmt(Principal=None)), "Missing required field Principal"),
        (doc(trust_stmt(Principal=[ACCOUNT])), "Principal must be a JSON object."),
        (doc(trust_stmt(Principal={})), "Missing required field Principal cannot be empty!"),
        (
            doc(trust_stmt(Principal=None, NotPrincipal={"AWS": "*"})),
            "Allow with NotPrincipal is not allowed.",
        ),
        (
            doc(trust_stmt(Effect="Deny", NotPrincipal={"AWS": ACCOUNT})),
            "AssumeRole policy must not contain NotPrincipal field.",
        ),
        (doc(trust_stmt(Action=None)), "Missing required field Action"),
        (doc(trust_stmt(Action=[])), "Missing required field Action"),
        (
            doc(trust_stmt(Action="s3:GetObject")),
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (
            doc(trust_stmt(Action=["sts:AssumeRole", "sts:GetCallerIdentity"])),
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (doc(trust_stmt(Resource="*")), "Has prohibited field Resource"),
        (doc(trust_stmt(NotResource="*")), "AssumeRole policy must not contain resources."),
        (doc(trust_stmt(Condition={"StringEqualz": {"sts:ExternalId": "x"}})), "Syntax error in policy."),
        (
            doc(trust_stmt(Principal={"AWS": "arn:aws:iam::111122223333:user/*"})),
            'Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"',
        ),
        (
            doc(trust_stmt(Principal={"AWS": "12345"})),
            'Invalid principal in policy: "AWS":"12345"',
        ),
        (
            doc(trust_stmt(Principal={"Service": "not a service"})),
            'Invalid principal in policy: "SERVICE":"not a service"',
        ),
        (
            doc(
                trust_stmt(
                    Principal={
                        "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
                    }
                )
            ),
            'Invalid principal in policy: "CANONICALUSER":'
            '"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"',
        ),
    ],
)
def test_trust_policy_faults(document: str, message: str) -> None:
    assert rejection(document, "trust") == message


# --- service control policies --------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        stmt(Effect="Deny", Action="organizations:LeaveOrganization"),
        stmt(
            Effect="Deny",
            NotAction=["iam:*", "sts:*"],
            Action=None,
            Condition={"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
        ),
        stmt(Effect="Allow", Action="ec2:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "ops"}}),
        stmt(Effect="Deny", Action="s3:*", NotResource="arn:aws:s3:::audit-*", Resource=None),
    ],
)
def test_service_control_policies_aws_accepts(statement: dict[str, Any]) -> None:
    validate_policy(doc(statement), "scp")
    validate_policy(doc(statement, version=None), "scp")


@pytest.mark.parametrize(
    ("statement", "cause"),
    [
        (stmt(Principal="*"), "Policy document should not specify a principal."),
        (stmt(Resource=None), "Policy statement must contain resources."),
        (stmt(Action=None), "Policy statement must contain actions."),
        (stmt(Effect="Block"), SYNTAX),
    ],
)
def test_service_control_policy_faults_get_organizations_answer(
    statement: dict[str, Any], cause: str
) -> None:
    with pytest.raises(MalformedPolicyDocument) as caught:
        validate_policy(doc(statement), "scp")
    assert caught.value.code == "MalformedPolicyDocumentException"
    assert caught.value.message == SCP_MALFORMED
    assert caught.value.__notes__ == [cause]


# --- size quotas ---------------------------------------------------------------------------------


def test_quota_defaults_are_aws_defaults() -> None:
    assert (MANAGED_POLICY_MAX, USER_INLINE_MAX, GROUP_INLINE_MAX, ROLE_INLINE_MAX) == (
        6144,
        2048,
        5120,
        10240,
    )
    assert (TRUST_POLICY_MAX, SCP_MAX, SESSION_POLICY_MAX) == (2048, 5120, 2048)


def padded(size: int, kind: PolicyKind = "identity") -> str:
    """A valid document of exactly `size` counted characters, indented generously."""
    base = doc(trust_stmt(Sid="")) if kind == "trust" else doc(stmt(Sid=""))
    sid_at = base.index('"Sid": "') + len('"Sid": "')
    filler = "A" * (size - policy_size(base, kind))
    document = json.loads(base[:sid_at] + filler + base[sid_at:])
    return json.dumps(document, indent=4) if kind not in ("scp", "session") else json.dumps(document)


def test_iam_does_not_count_white_space() -> None:
    assert policy_size('{ "Version" :\n\t"2012-10-17"\r\n}') == len('{"Version":"2012-10-17"}')
    assert policy_size('{"Sid": "a b"}', "scp") == 14
    assert policy_size('{"Sid": "a b"}', "session") == 14


@pytest.mark.parametrize(
    ("kind", "limit", "message"),
    [
        ("identity", MANAGED_POLICY_MAX, "Cannot exceed quota for PolicySize: 6144"),
        ("identity", ROLE_INLINE_MAX, "Cannot exceed quota for PolicySize: 10240"),
        ("trust", TRUST_POLICY_MAX, "Cannot exceed quota for ACLSizePerRole: 2048"),
    ],
)
def test_iam_size_quotas(kind: PolicyKind, limit: int, message: str) -> None:
    at_limit = padded(limit, kind)
    assert len(at_limit) > limit  # the indentation does not count
    validate_policy(at_limit, kind, max_chars=limit)
    with pytest.raises(LimitExceeded) as caught:
        validate_policy(padded(limit + 1, kind), kind, max_chars=limit)
    assert (caught.value.code, caught.value.status, caught.value.message) == ("LimitExceeded", 409, message)


def test_size_is_checked_before_syntax() -> None:
    with pytest.raises(LimitExceeded):
        validate_policy("x" * 7000, "identity", max_chars=MANAGED_POLICY_MAX)


def test_service_control_policy_size_counts_every_character() -> None:
    validate_policy(padded(SCP_MAX, "scp"), "scp", max_chars=SCP_MAX)
    with pytest.raises(ConstraintViolationException) as caught:
        validate_policy(padded(SCP_MAX - 10, "scp") + " " * 11, "scp", max_chars=SCP_MAX)
    assert (caught.value.code, caught.value.status) == ("ConstraintViolationException", 400)


def test_session_policy_size_is_sts_length_constraint() -> None:
    validate_policy(padded(SESSION_POLICY_MAX, "session"), "session", max_chars=SESSION_POLICY_MAX)
    with pytest.raises(ValidationError) as caught:
        validate_policy(padded(SESSION_POLICY_MAX + 1, "session"), "session", max_chars=SESSION_POLICY_MAX)
    assert caught.value.message.endswith("Member must have length less than or equal to 2048")


def test_inline_policy_aggregate_message() -> None:
    error = inline_policy_too_large("user", "alice", USER_INLINE_MAX)
    assert isinstance(error, LimitExceeded)
    assert error.message == "Maximum policy size of 2048 bytes exceeded for user alice"


# --- robustness: any JSON is either accepted or refused with an AWS error -------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)
statement_like = st.fixed_dictionaries(
    {},
    optional={
        "Sid": json_values,
        "Effect": st.sampled_from(["Allow", "Deny", "allow"]) | json_values,
        "Principal": json_values,
        "Action": st.sampled_from(["s3:GetObject", "sts:AssumeRole", "*", "x"]) | json_values,
        "Resource": st.sampled_from(["*", "arn:aws:s3:::b", "arn:aws:iam::1:user/a"]) | json_values,
        "NotResource": json_values,
        "Condition": st.dictionaries(st.sampled_from(["StringEquals", "DateLessThan", "Nope"]), json_values),
    },
)
policy_like = st.fixed_dictionaries(
    {"Statement": st.lists(statement_like, max_size=3) | statement_like},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"]) | json_values, "Id": json_values},
)


@settings(max_examples=300, deadline=None)
@given(
    policy=policy_like | json_values,
    kind=st.sampled_from(["identity", "trust", "resource", "scp", "session"]),
)
def test_any_json_is_accepted_or_refused_as_aws_refuses(policy: Any, kind: PolicyKind) -> None:
    try:
        validate_policy(json.dumps(policy), kind, max_chars=MANAGED_POLICY_MAX)
    except AwsError as error:
        assert isinstance(error, MalformedPolicyDocument | LimitExceeded)
        assert error.message
