"""Stable identifiers of the organization, derived from its management account ID."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass


@functools.cache  # asked on every request (aws:PrincipalOrgID): hash once
def organization_id(management_account_id: str) -> str:
    return "o-" + hashlib.sha256(management_account_id.encode()).hexdigest()[:10]


def root_id(management_account_id: str) -> str:
    return "r-" + hashlib.sha256(b"root" + management_account_id.encode()).hexdigest()[:4]


FULL_AWS_ACCESS_ID = "p-FullAWSAccess"
FULL_AWS_ACCESS = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
)


@dataclass(frozen=True, slots=True)
class OrgUnit:
    ou_id: str
    parent_id: str  # r-… or ou-…
    name: str


@dataclass(frozen=True, slots=True)
class OrgPolicy:
    policy_id: str  # p-…
    name: str
    policy_type: str  # SERVICE_CONTROL_POLICY | RESOURCE_CONTROL_POLICY
    content: str
    description: str = ""
    aws_managed: bool = False
