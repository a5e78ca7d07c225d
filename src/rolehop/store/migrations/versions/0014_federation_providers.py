"""OIDC and SAML identity providers (issue 11): store.federation_store.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oidc_providers",
        sa.Column("provider_id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("arn", sa.String(320), nullable=False, unique=True),
        sa.Column("url", sa.String(300), nullable=False),
        sa.Column("client_ids", sa.Text, nullable=False),
        sa.Column("thumbprints", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("context_provider", sa.Text, nullable=True),
    )
    op.create_table(
        "saml_providers",
        sa.Column("provider_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("arn", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("metadata_document", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("valid_until", TS, nullable=False),
        sa.Column("assertion_encryption_mode", sa.String(16), nullable=True),
        sa.Column("private_keys", sa.Text, nullable=False),
        sa.Column("context_provider", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("saml_providers")
    op.drop_table("oidc_providers")
