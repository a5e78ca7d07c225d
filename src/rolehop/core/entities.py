"""The IAM domain as immutable values. Storage maps rows to these; services return shapes from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from rolehop.core import arn

IdentityKind = Literal["user", "group", "role"]
AttachableKind = Literal["user", "group", "role"]


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str
    email: str
    created_at: datetime
    alias: str | None = None
    display_name: str | None = None  # the console's "name in the console" (e.g. "Production")
    is_management: bool = False  # the server's account, which holds its people
    status: str = "ACTIVE"  # ACTIVE | PENDING_CLOSURE | SUSPENDED
    joined_method: str | None = None  # CREATED | INVITED; None: outside the organization
    joined_at: datetime | None = None
    closed_at: datetime | None = None  # CloseAccount: PENDING_CLOSURE, then SUSPENDED

    @property
    def in_organization(self) -> bool:
        return self.joined_method is not None

    @property
    def root_arn(self) -> str:
        return arn.root_arn(self.account_id)


@dataclass(frozen=True, slots=True)
class Identity:
    """A user, group or role: they share identity, naming, path and uniqueness rules."""

    kind: IdentityKind
    unique_id: str
    account_id: str
    name: str
    path: str
    created_at: datetime
    boundary_arn: str | None = None  # users and roles
    description: str | None = None  # roles
    trust_policy: str | None = None  # roles
    max_session_duration: int | None = None  # roles

    @property
    def arn(self) -> str:
        return arn.iam_arn(self.account_id, self.kind, self.path, self.name)


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    policy_id: str
    arn: str
    account_id: str | None  # None: AWS-managed
    name: str
    path: str
    default_version_id: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    attachment_count: int = 0
    boundary_count: int = 0
    next_version: int = 2

    def attachable_in(self, account_id: str) -> bool:
        """Whether identities of `account_id` may hold it (attached, as a boundary or a session policy):
        AWS-managed policies serve every account, a customer's policy only its own."""
        return self.account_id is None or self.account_id == account_id


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    policy_id: str
    version_id: str
    document: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    owner_kind: IdentityKind
    owner_id: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    account_id: str
    user_id: str | None  # None: the account's root key
    sealed_secret: bytes = field(repr=False)
    status: Literal["Active", "Inactive"]
    created_at: datetime
    last_used_at: datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class CreateAccountRequest:
    request_id: str
    account_name: str
    email: str
    state: Literal["IN_PROGRESS", "SUCCEEDED", "FAILED"]
    requested_at: datetime
    account_id: str | None = None
    failure_reason: str | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MfaDevice:
    """A virtual MFA device. Its secret is sealed at rest; `last_step` is the replay guard (the last
    TOTP time step accepted) and `drift_steps` the clock offset learnt by ResyncMFADevice."""

    device_id: str
    serial_number: str  # arn:aws:iam::ACCOUNT:mfa/PATH/NAME
    account_id: str
    name: str
    path: str
    sealed_seed: bytes = field(repr=False)
    created_at: datetime
    user_id: str | None = None  # the user it is enabled for; None while unassigned
    enable_date: datetime | None = None
    last_step: int | None = None
    drift_steps: int = 0


@dataclass(frozen=True, slots=True)
class LoginProfile:
    """A user's console password: an argon2id hash, never the password."""

    user_id: str
    password_hash: str = field(repr=False)
    created_at: datetime
    password_changed_at: datetime
    password_reset_required: bool = False
    max_signin_session_duration: int | None = None
    password_last_used: datetime | None = None
    previous_hashes: tuple[str, ...] = field(default=(), repr=False)  # newest first, for reuse prevention


@dataclass(frozen=True, slots=True)
class AuthThrottle:
    """Failed authentications (MFA codes, passwords) of one user or from one source address."""

    scope: Literal["user", "source"]
    subject: str  # the user's unique ID, or the source IP address
    failures: int
    window_start: datetime
    blocked_until: datetime | None = None
