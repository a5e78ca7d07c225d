"""AccessDenied explanations by request ID (`rolehop explain`).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "denials",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
    )
    op.create_index("ix_denials_at", "denials", ["at"])


def downgrade() -> None:
    op.drop_index("ix_denials_at", "denials")
    op.drop_table("denials")
