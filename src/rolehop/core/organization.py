"""The organization as values: the organization itself, its OUs and its policies, and the
identifiers Organizations gives them (random, in AWS's formats: o-…, r-…, ou-…-…, p-…, h-…)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"

FEATURE_SETS = ("ALL", "CONSOLIDATED_BILLING")
SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"


def alnum(random_bytes: bytes) -> str:
    """Lower-case letters and digits, one per byte: the alphabet of Organizations' IDs."""
    return "".join(_ALNUM[b % 36] for b in random_bytes)


def new_organization_id(random_bytes: bytes) -> str:
    return "o-" + alnum(random_bytes[:10])


def new_root_id(random_bytes: bytes) -> str:
    return "r-" + alnum(random_bytes[:4])


def new_policy_id(random_bytes: bytes) -> str:
    return "p-" + alnum(random_bytes[:8])


def new_ou_id(root: str, random_bytes: bytes) -> str:
    return f"ou-{root[2:]}-{alnum(random_bytes[:8])}"


@dataclass(frozen=True, slots=True)
class Organization:
    """rolehop serves at most one organization, whose management account is the server's account."""

    org_id: str
    root_id: str
    management_account_id: str
    feature_set: str  # ALL | CONSOLIDATED_BILLING
    created_at: datetime
    # policy types enabled in the root; CreateOrganization with ALL enables SCPs
    policy_types: frozenset[str] = field(default_factory=frozenset)

    @property
    def arn(self) -> str:
        return self.resource_arn("organization")

    def resource_arn(self, kind: str, suffix: str = "") -> str:
        """arn:aws:organizations::MGMT:KIND/o-…SUFFIX (SUFFIX starts with / when there is one)."""
        return f"arn:aws:organizations::{self.management_account_id}:{kind}/{self.org_id}{suffix}"


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


def new_handshake_id(random_bytes: bytes) -> str:
    return "h-" + alnum(random_bytes[:10])


@dataclass(frozen=True, slots=True)
class HandshakeParty:
    party_id: str
    party_type: str  # ACCOUNT | ORGANIZATION | EMAIL


@dataclass(frozen=True, slots=True)
class Handshake:
    """An invitation (or a request to enable all features) between the organization and accounts."""

    handshake_id: str
    action: str  # INVITE | ENABLE_ALL_FEATURES | APPROVE_ALL_FEATURES | ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE
    state: str  # REQUESTED | OPEN | CANCELED | ACCEPTED | DECLINED | EXPIRED
    parties: tuple[HandshakeParty, ...]
    requested_at: datetime
    expires_at: datetime
    resources: str  # the HandshakeResources as AWS nests them, in JSON
    parent_handshake_id: str | None = None


@dataclass(frozen=True, slots=True)
class DelegatedAdministrator:
    account_id: str
    service_principal: str
    delegated_at: datetime


@dataclass(frozen=True, slots=True)
class ServiceAccess:
    """An AWS service the organization trusts (EnableAWSServiceAccess)."""

    service_principal: str
    enabled_at: datetime


@dataclass(frozen=True, slots=True)
class OrgResourcePolicy:
    """The organization's resource-based delegation policy (PutResourcePolicy)."""

    policy_id: str
    content: str
