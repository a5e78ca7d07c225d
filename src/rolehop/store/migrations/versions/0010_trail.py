"""The audit trail (issue 14): CloudTrail records on one hash chain per node, their resources,
signed digests and the digests' Ed25519 keys (store.trail_store).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trail_chains",
        sa.Column("chain_id", sa.String(64), primary_key=True),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "trail_events",
        sa.Column("chain_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("request_id", sa.String(64), nullable=True, index=True),
        sa.Column("event_time", TS, nullable=False, index=True),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("event_source", sa.String(128), nullable=False),
        sa.Column("event_name", sa.String(128), nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("username", sa.String(256), nullable=True),
        sa.Column("access_key_id", sa.String(128), nullable=True),
        sa.Column("principal_arn", sa.String(2048), nullable=True),
        sa.Column("error_code", sa.String(128), nullable=True),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("explanation", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for name, columns in (
        ("ix_trail_events_account_time", ["account_id", "event_time"]),
        ("ix_trail_events_name_time", ["event_name", "event_time"]),
        ("ix_trail_events_source_time", ["event_source", "event_time"]),
        ("ix_trail_events_username_time", ["username", "event_time"]),
        ("ix_trail_events_key_time", ["access_key_id", "event_time"]),
        ("ix_trail_events_principal_time", ["principal_arn", "event_time"]),
    ):
        op.create_index(name, "trail_events", columns)
    op.create_table(
        "trail_resources",
        sa.Column("chain_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("resource_type", sa.String(128), nullable=False, index=True),
        sa.Column("resource_name", sa.String(2048), nullable=False, index=True),
    )
    op.create_table(
        "trail_digests",
        sa.Column("chain_id", sa.String(64), primary_key=True),
        sa.Column("to_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("from_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", TS, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("previous_signature", sa.String(256), nullable=False),
        sa.Column("signature", sa.String(256), nullable=False),
    )
    op.create_table(
        "trail_signing_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("sealed_private", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("trail_signing_keys", "trail_digests", "trail_resources", "trail_events", "trail_chains"):
        op.drop_table(table)
