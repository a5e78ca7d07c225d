"""SSH public keys, signing and server certificates, service-specific credentials (issue 11).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _account() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "account_id", sa.String(12), sa.ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False
    )


def _user(nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "user_id", sa.String(32), sa.ForeignKey("identities.unique_id", ondelete="CASCADE"), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "ssh_public_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        _account(),
        _user(),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_index("ix_ssh_public_keys_user", "ssh_public_keys", ["user_id"])
    op.create_table(
        "signing_certificates",
        sa.Column("cert_id", sa.String(64), primary_key=True),
        _account(),
        _user(nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_index("ix_signing_certificates_owner", "signing_certificates", ["account_id", "user_id"])
    op.create_table(
        "server_certificates",
        sa.Column("cert_id", sa.String(32), primary_key=True),
        _account(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("chain", sa.Text, nullable=True),
        sa.Column("sealed_private_key", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.UniqueConstraint("account_id", "name_key", name="uq_server_certificates_name"),
    )
    op.create_table(
        "service_credentials",
        sa.Column("credential_id", sa.String(32), primary_key=True),
        _account(),
        _user(),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("service_user_name", sa.String(200), nullable=True),
        sa.Column("alias", sa.String(200), nullable=True),
        sa.Column("sealed_secret", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
    )
    op.create_index("ix_service_credentials_owner", "service_credentials", ["account_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_service_credentials_owner", table_name="service_credentials")
    op.drop_table("service_credentials")
    op.drop_table("server_certificates")
    op.drop_index("ix_signing_certificates_owner", table_name="signing_certificates")
    op.drop_table("signing_certificates")
    op.drop_index("ix_ssh_public_keys_user", table_name="ssh_public_keys")
    op.drop_table("ssh_public_keys")
