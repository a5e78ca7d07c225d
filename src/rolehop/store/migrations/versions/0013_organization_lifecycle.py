"""The organization becomes stored state (issue 12): a fresh store has none until CreateOrganization
(or `rolehop apply`), and accounts say whether and how they joined it (and when they were closed).
With it come the organization's handshakes (store.handshake_store) and what it grants beyond its
structure: delegated administrators, trusted services, its resource policy and tags
(store.delegation_store).

A store that already served an organization keeps it, with the IDs it had (derived then from the
management account's ID), SCPs and RCPs enabled as they were enforced, and every account a member.

Revision ID: 0013
Revises: 0012
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("org_id", sa.String(40), primary_key=True),
        sa.Column("root_id", sa.String(40), nullable=False),
        sa.Column("management_account_id", sa.String(12), nullable=False),
        sa.Column("feature_set", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("policy_types", sa.Text, nullable=False),
    )
    op.create_table(
        "handshakes",
        sa.Column("handshake_id", sa.String(40), primary_key=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("parties", sa.Text, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("resources", sa.Text, nullable=False),
        sa.Column("parent_handshake_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_handshakes_requested", "handshakes", ["requested_at"])
    op.create_table(
        "delegated_administrators",
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("service_principal", sa.String(128), primary_key=True),
        sa.Column("delegated_at", TS, nullable=False),
    )
    op.create_table(
        "org_service_access",
        sa.Column("service_principal", sa.String(128), primary_key=True),
        sa.Column("enabled_at", TS, nullable=False),
    )
    op.create_table(
        "org_resource_policy",
        sa.Column("policy_id", sa.String(40), primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "org_tags",
        sa.Column("resource_id", sa.String(140), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("joined_method", sa.String(16), nullable=True))
        batch.add_column(sa.Column("joined_at", TS, nullable=True))
        batch.add_column(sa.Column("closed_at", TS, nullable=True))
    conn = op.get_bind()
    management = conn.execute(
        sa.text("SELECT account_id, created_at FROM accounts WHERE is_management")
    ).first()
    if management is None:
        return
    mgmt = management.account_id
    conn.execute(
        sa.text(
            "INSERT INTO organizations VALUES (:org, :root, :mgmt, 'ALL', :at, "
            "'RESOURCE_CONTROL_POLICY,SERVICE_CONTROL_POLICY')"
        ),
        {
            "org": "o-" + hashlib.sha256(mgmt.encode()).hexdigest()[:10],
            "root": "r-" + hashlib.sha256(b"root" + mgmt.encode()).hexdigest()[:4],
            "mgmt": mgmt,
            "at": management.created_at,
        },
    )
    conn.execute(
        sa.text(
            "UPDATE accounts SET joined_at = created_at, joined_method = "
            "CASE WHEN is_management THEN 'INVITED' ELSE 'CREATED' END"
        )
    )


def downgrade() -> None:
    for table in ("org_tags", "org_resource_policy", "org_service_access", "delegated_administrators"):
        op.drop_table(table)
    op.drop_index("ix_handshakes_requested", "handshakes")
    op.drop_table("handshakes")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("closed_at")
        batch.drop_column("joined_at")
        batch.drop_column("joined_method")
    op.drop_table("organizations")
