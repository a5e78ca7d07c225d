"""Tables. The Alembic migrations create exactly these; a test checks that the two agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("email", String(256), nullable=False),
    Column("alias", String(63), unique=True),
    Column("display_name", String(128)),
    Column("is_management", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("joined_method", String(16)),  # NULL: outside the organization
    Column("joined_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
)

# Users, groups and roles share one table: the same naming, path and uniqueness rules.
identities = Table(
    "identities",
    metadata,
    Column("unique_id", String(32), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),  # lower-cased: IAM names are unique ignoring case
    Column("path", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("boundary_arn", String(2048)),
    Column("description", String(1000)),
    Column("trust_policy", Text),
    Column("max_session_duration", Integer),
    UniqueConstraint("account_id", "kind", "name_key", name="uq_identity_name"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_group_members_user", group_members.c.user_id)

policies = Table(
    "policies",
    metadata,
    Column("policy_id", String(32), primary_key=True),
    Column("arn", String(2048), nullable=False, unique=True),
    Column("arn_key", String(2048), nullable=False, unique=True),  # lower-cased, for name uniqueness
    Column("account_id", String(12)),  # NULL: AWS-managed
    Column("name", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("description", String(1000)),
    Column("default_version_id", String(16), nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("policy_id", String(32), ForeignKey("policies.policy_id", ondelete="CASCADE"), primary_key=True),
    Column("version_id", String(16), primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("policy_id", String(32), ForeignKey("policies.policy_id", ondelete="CASCADE"), primary_key=True),
    Column("principal_kind", String(8), primary_key=True),
    Column(
        "principal_id",
        String(32),
        ForeignKey("identities.unique_id", ondelete="CASCADE"),
        primary_key=True,
    ),
)
Index("ix_attachments_principal", attachments.c.principal_id)

inline_policies = Table(
    "inline_policies",
    metadata,
    Column("owner_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE"), primary_key=True),
    Column("owner_kind", String(8), nullable=False),
    Column("name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE")),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("status", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("last_used_service", String(64)),
    Column("last_used_region", String(64)),
)
Index("ix_access_keys_owner", access_keys.c.account_id, access_keys.c.user_id)

tags = Table(
    "tags",
    metadata,
    Column("resource_kind", String(16), primary_key=True),
    Column("resource_id", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

create_account_requests = Table(
    "create_account_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("account_name", String(128), nullable=False),
    Column("email", String(256), nullable=False),
    Column("account_id", String(12)),
    Column("state", String(16), nullable=False),
    Column("failure_reason", String(64)),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
)

# Virtual MFA devices: the seed is sealed with the key ring; last_step is the replay guard.
mfa_devices = Table(
    "mfa_devices",
    metadata,
    Column("device_id", String(32), primary_key=True),
    Column("serial_number", String(512), nullable=False),
    Column("serial_key", String(512), nullable=False, unique=True),  # lower-cased: names ignore case
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(226), nullable=False),  # IAM API reference: VirtualMFADeviceName is 1-226
    Column("path", String(512), nullable=False),
    Column("sealed_seed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("user_id", String(32), ForeignKey("identities.unique_id", ondelete="SET NULL")),
    Column("enable_date", DateTime(timezone=True)),
    Column("last_step", BigInteger),
    Column("drift_steps", Integer, nullable=False),
)
Index("ix_mfa_devices_user", mfa_devices.c.user_id)
Index("ix_mfa_devices_account", mfa_devices.c.account_id)

login_profiles = Table(
    "login_profiles",
    metadata,
    Column("user_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE"), primary_key=True),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    Column("password_reset_required", Boolean, nullable=False),
    Column("max_signin_session_duration", Integer),
    Column("password_last_used", DateTime(timezone=True)),
    Column("previous_hashes", Text, nullable=False),  # JSON list of argon2id hashes, newest first
)

password_policies = Table(
    "password_policies",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("minimum_password_length", Integer, nullable=False),
    Column("require_symbols", Boolean, nullable=False),
    Column("require_numbers", Boolean, nullable=False),
    Column("require_uppercase_characters", Boolean, nullable=False),
    Column("require_lowercase_characters", Boolean, nullable=False),
    Column("allow_users_to_change_password", Boolean, nullable=False),
    Column("max_password_age", Integer, nullable=False),
    Column("password_reuse_prevention", Integer, nullable=False),
    Column("hard_expiry", Boolean, nullable=False),
)

# Failed MFA codes and passwords per user and per source address (shared by every node).
auth_throttles = Table(
    "auth_throttles",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("subject", String(128), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True)),
)
