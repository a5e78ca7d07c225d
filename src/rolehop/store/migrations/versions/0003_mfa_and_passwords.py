"""Virtual MFA devices, login profiles, the account password policy, authentication throttling.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mfa_devices",
        sa.Column("device_id", sa.String(32), primary_key=True),
        sa.Column("serial_number", sa.String(512), nullable=False),
        sa.Column("serial_key", sa.String(512), nullable=False, unique=True),
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("sealed_seed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("identities.unique_id", ondelete="SET NULL")),
        sa.Column("enable_date", TS),
        sa.Column("last_step", sa.BigInteger),
        sa.Column("drift_steps", sa.Integer, nullable=False),
    )
    op.create_index("ix_mfa_devices_user", "mfa_devices", ["user_id"])
    op.create_index("ix_mfa_devices_account", "mfa_devices", ["account_id"])
    op.create_table(
        "login_profiles",
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("identities.unique_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.Column("password_reset_required", sa.Boolean, nullable=False),
        sa.Column("max_signin_session_duration", sa.Integer),
        sa.Column("password_last_used", TS),
        sa.Column("previous_hashes", sa.Text, nullable=False),
    )
    op.create_table(
        "password_policies",
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("minimum_password_length", sa.Integer, nullable=False),
        sa.Column("require_symbols", sa.Boolean, nullable=False),
        sa.Column("require_numbers", sa.Boolean, nullable=False),
        sa.Column("require_uppercase_characters", sa.Boolean, nullable=False),
        sa.Column("require_lowercase_characters", sa.Boolean, nullable=False),
        sa.Column("allow_users_to_change_password", sa.Boolean, nullable=False),
        sa.Column("max_password_age", sa.Integer, nullable=False),
        sa.Column("password_reuse_prevention", sa.Integer, nullable=False),
        sa.Column("hard_expiry", sa.Boolean, nullable=False),
    )
    op.create_table(
        "auth_throttles",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("subject", sa.String(128), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("blocked_until", TS),
    )


def downgrade() -> None:
    op.drop_table("auth_throttles")
    op.drop_table("password_policies")
    op.drop_table("login_profiles")
    op.drop_index("ix_mfa_devices_account", "mfa_devices")
    op.drop_index("ix_mfa_devices_user", "mfa_devices")
    op.drop_table("mfa_devices")
