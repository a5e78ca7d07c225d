"""Accounts, identities (users, groups, roles), managed and inline policies, access keys, tags.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("email", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(63), unique=True),
        sa.Column("display_name", sa.String(128)),
        sa.Column("is_management", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "identities",
        sa.Column("unique_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("boundary_arn", sa.String(2048)),
        sa.Column("description", sa.String(1000)),
        sa.Column("trust_policy", sa.Text),
        sa.Column("max_session_duration", sa.Integer),
        sa.UniqueConstraint("account_id", "kind", "name_key", name="uq_identity_name"),
    )
    op.create_table(
        "group_members",
        sa.Column(
            "group_id",
            sa.String(32),
            sa.ForeignKey("identities.unique_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("identities.unique_id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_group_members_user", "group_members", ["user_id"])
    op.create_table(
        "policies",
        sa.Column("policy_id", sa.String(32), primary_key=True),
        sa.Column("arn", sa.String(2048), nullable=False, unique=True),
        sa.Column("arn_key", sa.String(2048), nullable=False, unique=True),
        sa.Column("account_id", sa.String(12)),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("description", sa.String(1000)),
        sa.Column("default_version_id", sa.String(16), nullable=False),
        sa.Column("next_version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "policy_versions",
        sa.Column(
            "policy_id",
            sa.String(32),
            sa.ForeignKey("policies.policy_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version_id", sa.String(16), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "attachments",
        sa.Column(
            "policy_id",
            sa.String(32),
            sa.ForeignKey("policies.policy_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("principal_kind", sa.String(8), primary_key=True),
        sa.Column(
            "principal_id",
            sa.String(32),
            sa.ForeignKey("identities.unique_id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_attachments_principal", "attachments", ["principal_id"])
    op.create_table(
        "inline_policies",
        sa.Column(
            "owner_id",
            sa.String(32),
            sa.ForeignKey("identities.unique_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("owner_kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(128), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("identities.unique_id", ondelete="CASCADE")),
        sa.Column("sealed_secret", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS),
        sa.Column("last_used_service", sa.String(64)),
        sa.Column("last_used_region", sa.String(64)),
    )
    op.create_index("ix_access_keys_owner", "access_keys", ["account_id", "user_id"])
    op.create_table(
        "tags",
        sa.Column("resource_kind", sa.String(16), primary_key=True),
        sa.Column("resource_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "tags",
        "access_keys",
        "inline_policies",
        "attachments",
        "policy_versions",
        "policies",
        "group_members",
        "identities",
        "accounts",
    ):
        op.drop_table(table)
