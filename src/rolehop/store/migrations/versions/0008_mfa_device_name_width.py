"""Virtual MFA device names of up to 226 characters, as the IAM API reference allows (issue 15,
finding 4: 128 made PostgreSQL refuse longer names with a 500).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mfa_devices") as batch:
        batch.alter_column(
            "name", type_=sa.String(226), existing_type=sa.String(128), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mfa_devices") as batch:
        batch.alter_column(
            "name", type_=sa.String(128), existing_type=sa.String(226), existing_nullable=False
        )
