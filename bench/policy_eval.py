"""Policy evaluation throughput on a realistic set (issue 4, item 9).

A user in 3 groups with 10 attached policies of 5-10 statements each (wildcards, conditions,
policy variables), a permissions boundary and a 3-level SCP chain; a mix of requests that are
allowed, implicitly denied and explicitly denied. Prints evaluations per second on one core,
with requests built beforehand (the evaluator alone) and built per call (as the server does).

    .venv/bin/python bench/policy_eval.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from rolehop.core.policy import PolicySet, Request, evaluate, parse_policy

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/engineering/alice"


def stmt(
    effect: str,
    actions: Any,
    resources: Any,
    condition: dict[str, Any] | None = None,
    sid: str | None = None,
    not_action: bool = False,
) -> dict[str, Any]:
    s: dict[str, Any] = {
        "Effect": effect,
        ("NotAction" if not_action else "Action"): actions,
        "Resource": resources,
    }
    if condition:
        s["Condition"] = condition
    if sid:
        s["Sid"] = sid
    return s


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
CORP_IP = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}
TEAM = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
REGIONS = {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}

IDENTITY = [
    doc(  # self-management (user policy)
        stmt("Allow", ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], "*", sid="ViewAccount"),
        stmt("Allow", ["iam:ChangePassword", "iam:GetUser"], "arn:aws:iam::*:user/*/${aws:username}"),
        stmt("Allow", ["iam:*AccessKey*", "iam:*SSHPublicKey*"], "arn:aws:iam::*:user/*/${aws:username}"),
        stmt(
            "Allow",
            ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice"],
            "arn:aws:iam::*:mfa/${aws:username}",
        ),
        stmt(
            "Deny",
            [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ChangePassword",
                "iam:ListMFADevices",
                "sts:GetSessionToken",
            ],
            "*",
            {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            sid="DenyWithoutMFA",
            not_action=True,
        ),
    ),
    doc(  # s3 data access (group engineering)
        stmt("Allow", "s3:ListAllMyBuckets", "*"),
        stmt("Allow", ["s3:ListBucket", "s3:GetBucketLocation"], "arn:aws:s3:::eng-*"),
        stmt("Allow", ["s3:GetObject*", "s3:PutObject*"], "arn:aws:s3:::eng-*/*", CORP_IP),
        stmt("Allow", "s3:DeleteObject", "arn:aws:s3:::eng-scratch/*", MFA),
        stmt(
            "Deny",
            "s3:*",
            "arn:aws:s3:::eng-secrets/*",
            {"StringNotEquals": {"aws:PrincipalTag/clearance": "high"}},
        ),
        stmt("Allow", "s3:GetObject", "arn:aws:s3:::shared-${aws:PrincipalTag/team}/*"),
    ),
    doc(  # ec2 (group engineering)
        stmt("Allow", "ec2:Describe*", "*", REGIONS),
        stmt(
            "Allow",
            ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances"],
            "arn:aws:ec2:*:111122223333:instance/*",
            TEAM,
        ),
        stmt(
            "Allow",
            "ec2:RunInstances",
            ["arn:aws:ec2:eu-*::image/ami-*", "arn:aws:ec2:eu-*:111122223333:*"],
            {"StringLike": {"ec2:InstanceType": ["t3.*", "m5.large"]}},
        ),
        stmt("Deny", "ec2:TerminateInstances", "*", {"StringNotEquals": {"aws:ResourceTag/env": "dev"}}),
        stmt(
            "Allow",
            ["ec2:CreateTags"],
            "arn:aws:ec2:*:*:instance/*",
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "owner"]}},
        ),
        stmt(
            "Allow",
            "ec2:*Volume*",
            "*",
            {"StringEquals": {"ec2:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        ),
    ),
    doc(  # dynamodb (group data)
        stmt(
            "Allow",
            ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"],
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders*",
        ),
        stmt(
            "Allow",
            ["dynamodb:PutItem", "dynamodb:UpdateItem"],
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
            {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["${aws:userid}*"]}},
        ),
        stmt("Allow", "dynamodb:DescribeTable", "arn:aws:dynamodb:*:111122223333:table/*"),
        stmt("Deny", "dynamodb:DeleteTable", "*"),
        stmt("Allow", "dynamodb:ListTables", "*"),
    ),
    doc(  # kms (group data)
        stmt(
            "Allow",
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            "arn:aws:kms:eu-*:111122223333:key/*",
            {
                "StringEquals": {
                    "kms:ViaService": ["s3.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com"]
                }
            },
        ),
        stmt("Allow", "kms:DescribeKey", "*"),
        stmt("Allow", "kms:ListAliases", "*"),
        stmt("Deny", "kms:ScheduleKeyDeletion", "*"),
        stmt("Allow", "kms:Encrypt", "arn:aws:kms:eu-west-1:111122223333:key/*", MFA),
    ),
    doc(  # sqs + sns (group ops)
        stmt(
            "Allow",
            ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
            "arn:aws:sqs:eu-*:111122223333:eng-*",
        ),
        stmt("Allow", "sqs:ListQueues", "*"),
        stmt(
            "Allow",
            "sns:Publish",
            "arn:aws:sns:*:111122223333:alerts-*",
            {"Bool": {"aws:SecureTransport": "true"}},
        ),
        stmt(
            "Allow",
            ["sns:Subscribe", "sns:Unsubscribe"],
            "arn:aws:sns:*:111122223333:*",
            {"StringLike": {"sns:Endpoint": "*@example.com"}},
        ),
        stmt("Deny", "sqs:DeleteQueue", "*"),
        stmt("Allow", "sqs:GetQueueAttributes", "*"),
    ),
    doc(  # logs + cloudwatch (group ops)
        stmt("Allow", ["logs:Describe*", "logs:Get*", "logs:FilterLogEvents"], "*"),
        stmt("Allow", "logs:CreateLogGroup", "arn:aws:logs:*:111122223333:log-group:/eng/*"),
        stmt(
            "Allow",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            "arn:aws:logs:*:111122223333:log-group:/eng/*:*",
        ),
        stmt("Allow", ["cloudwatch:GetMetric*", "cloudwatch:ListMetrics", "cloudwatch:DescribeAlarms"], "*"),
        stmt("Allow", "cloudwatch:PutMetricAlarm", "*", {"StringLike": {"cloudwatch:namespace": "Eng/*"}}),
        stmt("Deny", "logs:DeleteLogGroup", "*", {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}}),
        stmt("Deny", "cloudwatch:DeleteAlarms", "*"),
    ),
    doc(  # lambda (group ops)
        stmt(
            "Allow",
            ["lambda:InvokeFunction", "lambda:GetFunction"],
            "arn:aws:lambda:eu-*:111122223333:function:eng-*",
        ),
        stmt("Allow", "lambda:ListFunctions", "*"),
        stmt(
            "Allow",
            ["lambda:UpdateFunctionCode", "lambda:PublishVersion"],
            "arn:aws:lambda:eu-west-1:111122223333:function:eng-*",
            MFA,
        ),
        stmt(
            "Allow",
            "iam:PassRole",
            "arn:aws:iam::111122223333:role/lambda/*",
            {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        ),
        stmt("Deny", "lambda:DeleteFunction", "*"),
    ),
    doc(  # time-boxed access + role assumption (managed)
        stmt(
            "Allow",
            "sts:AssumeRole",
            "arn:aws:iam::*:role/eng-*",
            {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}, **MFA},
        ),
        stmt(
            "Allow",
            "sts:TagSession",
            "*",
            {"StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"}},
        ),
        stmt("Allow", "sts:GetSessionToken", "*"),
        stmt("Deny", "sts:AssumeRole", "arn:aws:iam::*:role/admin*"),
        stmt("Allow", "organizations:Describe*", "*"),
        stmt("Allow", "organizations:List*", "*"),
    ),
    doc(  # read-only IAM (managed)
        stmt("Allow", ["iam:Get*", "iam:List*", "iam:GenerateServiceLastAccessedDetails"], "*"),
        stmt("Allow", "iam:SimulatePrincipalPolicy", "arn:aws:iam::111122223333:user/*/${aws:username}"),
        stmt(
            "Deny",
            ["iam:Create*", "iam:Delete*", "iam:Put*", "iam:Attach*", "iam:Detach*"],
            "*",
            {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/role": "admin"}},
        ),
        stmt("Allow", "access-analyzer:ValidatePolicy", "*"),
        stmt(
            "Allow",
            "iam:TagUser",
            "arn:aws:iam::*:user/*/${aws:username}",
            {"ForAnyValue:StringEquals": {"aws:TagKeys": ["nickname"]}},
        ),
    ),
]

BOUNDARY = doc(
    stmt(
        "Allow",
        [
            "s3:*",
            "ec2:*",
            "dynamodb:*",
            "kms:*",
            "sqs:*",
            "sns:*",
            "logs:*",
            "cloudwatch:*",
            "lambda:*",
            "iam:Get*",
            "iam:List*",
            "iam:ChangePassword",
            "iam:*AccessKey*",
            "iam:*MFADevice*",
            "iam:PassRole",
            "iam:SimulatePrincipalPolicy",
            "iam:TagUser",
            "sts:*",
            "organizations:Describe*",
            "organizations:List*",
        ],
        "*",
    ),
    stmt("Deny", "iam:*", "arn:aws:iam::*:role/admin*"),
    stmt(
        "Deny",
        "*",
        "*",
        {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24", "2001:db8::/32"]}},
    ),
)

SCPS = [
    [doc(stmt("Allow", "*", "*", sid="FullAWSAccess"))],
    [
        doc(
            stmt("Allow", "*", "*"),
            stmt(
                "Deny",
                ["iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*"],
                "*",
                {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1", "us-east-1"]}},
                sid="DenyOutsideRegions",
                not_action=True,
            ),
            stmt("Deny", "organizations:LeaveOrganization", "*"),
        )
    ],
    [
        doc(
            stmt(
                "Allow",
                [
                    "s3:*",
                    "ec2:*",
                    "dynamodb:*",
                    "kms:*",
                    "sqs:*",
                    "sns:*",
                    "logs:*",
                    "cloudwatch:*",
                    "lambda:*",
                    "iam:*",
                    "sts:*",
                    "organizations:*",
                ],
                "*",
            ),
            stmt(
                "Deny",
                "ec2:RunInstances",
                "arn:aws:ec2:*:*:instance/*",
                {"ForAnyValue:StringNotLike": {"ec2:InstanceType": ["t3.*", "m5.*"]}},
            ),
        )
    ],
]

CONTEXT = {
    "aws:username": "alice",
    "aws:userid": "AIDAEXAMPLEALICE",
    "aws:PrincipalTag/team": "payments",
    "aws:PrincipalTag/clearance": "low",
    "aws:SourceIp": "203.0.113.17",
    "aws:SecureTransport": "true",
    "aws:MultiFactorAuthPresent": "true",
    "aws:MultiFactorAuthAge": "1200",
    "aws:CurrentTime": "2026-03-01T10:00:00Z",
    "aws:RequestedRegion": "eu-west-1",
}

REQUESTS: list[tuple[str, str, dict[str, str | list[str]]]] = [
    ("s3:GetObject", "arn:aws:s3:::eng-data/reports/2026/03.csv", {}),
    ("s3:GetObject", "arn:aws:s3:::eng-secrets/key.pem", {}),
    ("s3:PutObject", "arn:aws:s3:::marketing/x", {}),
    ("s3:GetObject", "arn:aws:s3:::shared-payments/readme", {}),
    ("ec2:DescribeInstances", "*", {}),
    (
        "ec2:StartInstances",
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc",
        {"aws:ResourceTag/team": "payments"},
    ),
    (
        "ec2:TerminateInstances",
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc",
        {"aws:ResourceTag/env": "prod"},
    ),
    ("ec2:CreateTags", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc", {"aws:TagKeys": ["team", "env"]}),
    ("dynamodb:Query", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders", {}),
    ("dynamodb:DeleteTable", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders", {}),
    (
        "kms:Decrypt",
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd",
        {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
    ),
    ("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:eng-jobs", {}),
    ("logs:PutLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/eng/api:log-stream:a", {}),
    ("lambda:InvokeFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:eng-resize", {}),
    ("iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/engineering/alice", {}),
    ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/engineering/alice", {}),
    ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/mallory", {}),
    ("iam:ListUsers", f"arn:aws:iam::{ACCOUNT}:user/", {}),
    ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/eng-deploy", {}),
    ("organizations:LeaveOrganization", "*", {}),
]


def build_requests() -> list[Request]:
    return [
        Request(USER, action, resource, ACCOUNT, {**CONTEXT, **extra}) for action, resource, extra in REQUESTS
    ]


def build_policy_set() -> PolicySet:
    identity = tuple(parse_policy(d, name=f"policy-{i}") for i, d in enumerate(IDENTITY))
    return PolicySet(
        identity=identity,
        boundaries=(parse_policy(BOUNDARY, name="boundary"),),
        scps=tuple(
            tuple(parse_policy(d, name=f"scp-{level}") for d in docs) for level, docs in enumerate(SCPS)
        ),
    )


def measure_rates(body: Callable[[], object], per_call: int, seconds: float) -> tuple[float, float]:
    """Best and median evaluations/s over short rounds: the best round is the least disturbed
    by other load."""
    body()  # warm-up: fills the per-action plans like a running server
    rates: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 5:
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < 0.1:
            body()
            count += per_call
        rates.append(count / elapsed)
    rates.sort()
    return rates[-1], rates[len(rates) // 2]


def run(seconds: float) -> None:
    sets = build_policy_set()
    identity = sets.identity
    statements = sum(len(p.statements) for p in identity)
    requests = build_requests()
    decisions = [evaluate(r, sets).decision for r in requests]
    summary = {d: decisions.count(d) for d in sorted(set(decisions))}
    print(
        f"set: {len(identity)} identity policies ({statements} statements), "
        f"1 boundary, {len(SCPS)} SCP levels"
    )
    print(f"requests: {len(requests)} distinct, decisions {summary}")

    def measure(label: str, body: Any) -> None:
        best, median = measure_rates(body, len(requests), seconds)
        print(f"{label}: best {best:,.0f} evaluations/s, median {median:,.0f}")

    measure("evaluate (requests prebuilt)", lambda: [evaluate(r, sets) for r in requests])
    measure("Request(...) + evaluate", lambda: [evaluate(r, sets) for r in build_requests()])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    run(parser.parse_args().seconds)
