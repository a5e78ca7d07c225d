"""Organizations CreateAccount requests and their status.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "create_account_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("account_name", sa.String(128), nullable=False),
        sa.Column("email", sa.String(256), nullable=False),
        sa.Column("account_id", sa.String(12)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(64)),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("create_account_requests")
