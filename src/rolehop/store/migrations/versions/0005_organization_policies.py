"""Organizations: organizational units, account placement, SCPs/RCPs and their targets.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_units",
        sa.Column("ou_id", sa.String(80), primary_key=True),
        sa.Column("parent_id", sa.String(80), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
    )
    op.create_table(
        "account_parents",
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("parent_id", sa.String(80), nullable=False),
    )
    op.create_table(
        "org_policies",
        sa.Column("policy_id", sa.String(140), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("policy_type", sa.String(40), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("description", sa.String(512), nullable=False),
        sa.Column("aws_managed", sa.Boolean, nullable=False),
    )
    op.create_table(
        "org_policy_targets",
        sa.Column(
            "policy_id",
            sa.String(140),
            sa.ForeignKey("org_policies.policy_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("target_id", sa.String(80), primary_key=True),
    )


def downgrade() -> None:
    for table in ("org_policy_targets", "org_policies", "account_parents", "org_units"):
        op.drop_table(table)
