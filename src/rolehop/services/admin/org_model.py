"""The organization file's model: what a file says and what the store holds, in one shape, so that
`plan` compares the two and `export` writes the store's. Plain values: names resolved (accounts by
ID, policies by ARN, OUs by path), documents parsed (compared as JSON, not as text)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rolehop.core.entities import IdentityKind

Json = Any  # a parsed JSON document: a policy, a trust policy, an organization policy's content

ROOT = "root"  # the target name of the organization's root
DEFAULT_SESSION = 3600


def ou_target(path: str) -> str:
    return f"ou:{path}"


def account_target(account_id: str) -> str:
    return f"account:{account_id}"


@dataclass(frozen=True)
class OrgSettings:
    feature_set: str  # ALL | CONSOLIDATED_BILLING
    policy_types: tuple[str, ...]  # enabled in the root, in core.org_policy_syntax.POLICY_TYPES order
    service_access: tuple[str, ...] = ()  # trusted AWS services (EnableAWSServiceAccess), sorted


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    name: str
    email: str
    display_name: str | None = None
    alias: str | None = None
    ou: str = ""  # the path of its OU ("workloads/prod"); "" for the root


@dataclass(frozen=True)
class OrgPolicySpec:
    policy_type: str
    name: str
    description: str
    content: Json
    targets: frozenset[str]  # ROOT, ou_target(path), account_target(id)

    @property
    def key(self) -> tuple[str, str]:
        return (self.policy_type, self.name)


@dataclass(frozen=True)
class DelegatedAdminSpec:
    account_id: str
    service_principal: str


@dataclass(frozen=True)
class PolicySpec:
    """A customer-managed IAM policy (its default version's document)."""

    account_id: str
    name: str
    path: str
    description: str | None
    document: Json

    @property
    def key(self) -> tuple[str, str]:
        return (self.account_id, self.name.lower())


@dataclass(frozen=True)
class IdentitySpec:
    """A group, user or role; the fields a kind does not have keep their defaults."""

    kind: IdentityKind
    account_id: str
    name: str
    path: str = "/"
    policies: frozenset[str] = frozenset()  # ARNs of attached managed policies
    inline: Mapping[str, Json] = field(default_factory=dict)  # name -> document
    boundary: str | None = None  # users and roles: the permissions boundary's ARN
    groups: frozenset[str] = frozenset()  # users: their groups' names, lower-case
    console_access: bool = False  # users: has a console password
    description: str | None = None  # roles
    trust: Json = None  # roles
    max_session_duration: int = DEFAULT_SESSION  # roles
    # users: the one-time password to give when console access is created (None: a generated one);
    # never read from the store, never compared
    initial_password: str | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.account_id, self.name.lower())


@dataclass(frozen=True)
class OrgModel:
    management: AccountSpec | None  # None: a store not bootstrapped yet
    organization: OrgSettings | None  # None: no organization (or a file that leaves it as it is)
    accounts: tuple[AccountSpec, ...] = ()  # member accounts, the management account aside
    ous: tuple[str, ...] = ()  # OU paths, every parent before its children
    org_policies: tuple[OrgPolicySpec, ...] = ()
    delegated_admins: tuple[DelegatedAdminSpec, ...] = ()
    policies: tuple[PolicySpec, ...] = ()
    identities: tuple[IdentitySpec, ...] = ()  # groups, then users, then roles

    def all_accounts(self) -> tuple[AccountSpec, ...]:
        return ((self.management,) if self.management else ()) + self.accounts

    def account_names(self) -> dict[str, str]:
        return {a.account_id: a.name for a in self.all_accounts()}
