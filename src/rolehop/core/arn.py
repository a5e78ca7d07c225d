"""ARNs of the IAM and STS resources rolehop serves (partition `aws`)."""

from __future__ import annotations

from dataclasses import dataclass

from rolehop.core.errors import InvalidInput

PARTITION = "aws"


def partition_for_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def iam_arn(account_id: str, kind: str, path: str, name: str) -> str:
    """`kind` is user, group, role, policy, mfa, instance-profile…; `path` starts and ends with '/'."""
    return f"arn:{PARTITION}:iam::{account_id}:{kind}{path}{name}"


def root_arn(account_id: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:root"


def assumed_role_arn(account_id: str, role_name: str, session_name: str) -> str:
    return f"arn:{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def federated_user_arn(account_id: str, name: str) -> str:
    return f"arn:{PARTITION}:sts::{account_id}:federated-user/{name}"


def aws_managed_policy_arn(path: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::aws:policy{path}{name}"


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_type(self) -> str:
        return self.resource.split("/", 1)[0].split(":", 1)[0]

    @property
    def resource_name(self) -> str:
        """Last path segment: the entity's name for user/group/role/policy ARNs."""
        return self.resource.rsplit("/", 1)[-1]

    @property
    def path(self) -> str:
        """The IAM path between the type and the name ('/' when there is none)."""
        parts = self.resource.split("/")
        return "/" + "/".join(parts[1:-1]) + "/" if len(parts) > 2 else "/"

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: str) -> Arn:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
        raise InvalidInput(f"ARN {text} is not valid.")
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def account_of(principal_arn: str) -> str | None:
    parts = principal_arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else None
