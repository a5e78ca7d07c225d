"""AccessDenied explanations move into the audit trail (issue 14): each refused call's event keeps
its explanation (pipeline.denials), so the tables `denials` and `denial_repeats` go. The
explanations they held (kept 30 days, for `rolehop explain`) are not carried over: the trail's
events are hash-chained by the node that recorded them, and a migration has no chain to add them to.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_index("ix_denial_repeats_at", "denial_repeats")
    op.drop_table("denial_repeats")
    op.drop_index("ix_denials_last_request_id", "denials")
    op.drop_index("ix_denials_fingerprint_at", "denials")
    op.drop_index("ix_denials_at", "denials")
    op.drop_table("denials")


def downgrade() -> None:
    # the tables as 0006 and 0007 left them, empty: the trail keeps the explanations from now on
    op.create_table(
        "denials",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
        sa.Column("last_request_id", sa.String(64), nullable=True),
        sa.Column("last_at", TS, nullable=True),
    )
    op.create_index("ix_denials_at", "denials", ["at"])
    op.create_index("ix_denials_fingerprint_at", "denials", ["fingerprint", "at"])
    op.create_index("ix_denials_last_request_id", "denials", ["last_request_id"])
    op.create_table(
        "denial_repeats",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("first_request_id", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_denial_repeats_at", "denial_repeats", ["at"])
