"""Instance profiles, the roles they hold, and service-linked role deletion tasks (issue 11).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instance_profiles",
        sa.Column("profile_id", sa.String(32), primary_key=True),
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
        sa.UniqueConstraint("account_id", "name_key", name="uq_instance_profiles_name"),
    )
    op.create_table(
        "instance_profile_roles",
        sa.Column(
            "profile_id",
            sa.String(32),
            sa.ForeignKey("instance_profiles.profile_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "role_id",
            sa.String(32),
            sa.ForeignKey("identities.unique_id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_instance_profile_roles_role", "instance_profile_roles", ["role_id"])
    op.create_table(
        "role_deletion_tasks",
        sa.Column("task_id", sa.String(1000), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role_arn", sa.String(2048), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("role_deletion_tasks")
    op.drop_index("ix_instance_profile_roles_role", table_name="instance_profile_roles")
    op.drop_table("instance_profile_roles")
    op.drop_table("instance_profiles")
