"""Identical AccessDenied explanations aggregated: a count and the last request per row, and a
bounded map of the repeats' request IDs (issue 15, finding 7).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("denials") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
        batch.add_column(sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_request_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("last_at", TS, nullable=True))
    op.create_index("ix_denials_fingerprint_at", "denials", ["fingerprint", "at"])
    op.create_index("ix_denials_last_request_id", "denials", ["last_request_id"])
    op.create_table(
        "denial_repeats",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("first_request_id", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_denial_repeats_at", "denial_repeats", ["at"])


def downgrade() -> None:
    op.drop_index("ix_denial_repeats_at", "denial_repeats")
    op.drop_table("denial_repeats")
    op.drop_index("ix_denials_last_request_id", "denials")
    op.drop_index("ix_denials_fingerprint_at", "denials")
    with op.batch_alter_table("denials") as batch:
        batch.drop_column("last_at")
        batch.drop_column("last_request_id")
        batch.drop_column("occurrences")
        batch.drop_column("fingerprint")
