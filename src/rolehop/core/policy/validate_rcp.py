"""Organizations' rules for resource control policies, past IAM's grammar for resource-based policies
(Organizations User Guide, "RCP syntax" and "Resource control policies (RCPs)"), in the order they
are checked; the first failure wins:

- every RCP includes `Version` "2012-10-17";
- `NotPrincipal` and `NotAction` are not RCP elements;
- `Effect` is `Deny`: "The effect of Allow is only supported for the RCPFullAWSAccess policy", which
  AWS manages;
- `Principal` is `"*"`;
- actions belong to the services RCPs apply to (`*` stands for all of them).
"""

from __future__ import annotations

from rolehop.core.policy.validate_rules import CURRENT_VERSION, element_values, load_object, statement_list

# "List of AWS services that support RCPs": S3, STS, KMS, SQS, Secrets Manager, ECR, OpenSearch
# Serverless, Cognito (identity pools and user pools), CloudWatch Logs, DynamoDB
RCP_SERVICES = frozenset(
    {
        "s3",
        "sts",
        "kms",
        "sqs",
        "secretsmanager",
        "ecr",
        "aoss",
        "cognito-identity",
        "cognito-idp",
        "logs",
        "dynamodb",
    }
)

VERSION_REQUIRED = 'Every RCP must include a Version element with the value "2012-10-17".'
NOT_PRINCIPAL = "RCPs don't support the NotPrincipal element."
NOT_ACTION = "RCPs don't support the NotAction element."
DENY_ONLY = "The effect of Allow is only supported for the RCPFullAWSAccess policy."
PRINCIPAL_STAR = 'The Principal element of an RCP must be "*".'


def unsupported_service(action: str) -> str:
    return f"{action}: RCPs apply only to the actions of {', '.join(sorted(RCP_SERVICES))}."


def first_error(document: str) -> str | None:
    """The RCP rule the document breaks first, or None. Run after IAM's grammar accepted it as a
    resource-based policy (so it is an object with well-formed statements)."""
    doc = load_object(document)
    statements = statement_list(doc) if doc is not None else None
    if doc is None or not statements:
        return None
    if doc.get("Version") != CURRENT_VERSION:
        return VERSION_REQUIRED
    for statement in statements:
        if "NotPrincipal" in statement:
            return NOT_PRINCIPAL
        if "NotAction" in statement:
            return NOT_ACTION
        if statement.get("Effect") != "Deny":
            return DENY_ONLY
        if statement.get("Principal") != "*":
            return PRINCIPAL_STAR
        for action in element_values(statement, "Action"):
            if action != "*" and action.split(":", 1)[0].lower() not in RCP_SERVICES:
                return unsupported_service(action)
    return None
