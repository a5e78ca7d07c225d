"""The web console: server-side sessions, per-user role history, used federation sign-in tokens.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("principal_name", sa.String(128), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("identities.unique_id", ondelete="CASCADE")),
        sa.Column("user_token", sa.Text),
        sa.Column("role_token", sa.Text),
        sa.Column("role_arn", sa.String(2048)),
        sa.Column("role_display_name", sa.String(64)),
        sa.Column("role_color", sa.String(6)),
        sa.Column("pending_mfa", sa.LargeBinary),
        sa.Column("issuer", sa.String(2048)),
    )
    op.create_index("ix_console_sessions_expires", "console_sessions", ["expires_at"])
    op.create_table(
        "console_role_history",
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("identities.unique_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("role_key", sa.String(128), primary_key=True),
        sa.Column("role_name", sa.String(128), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("color", sa.String(6), nullable=False),
        sa.Column("used_at", TS, nullable=False),
    )
    op.create_table(
        "console_signin_tokens",
        sa.Column("token_id", sa.String(64), primary_key=True),
        sa.Column("expires_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_signin_tokens")
    op.drop_table("console_role_history")
    op.drop_index("ix_console_sessions_expires", "console_sessions")
    op.drop_table("console_sessions")
