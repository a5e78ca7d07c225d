"""IAM's service last accessed jobs (issue 14): GenerateServiceLastAccessedDetails stores a job, its
first read stores the report computed from the audit trail (store.service_last_accessed_store).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_last_accessed_jobs",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("owner_arn", sa.String(2048), nullable=False),
        sa.Column("entity_arn", sa.String(2048), nullable=False),
        sa.Column("granularity", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("report", sa.Text, nullable=True),
    )
    op.create_index("ix_service_last_accessed_jobs_created", "service_last_accessed_jobs", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_service_last_accessed_jobs_created", "service_last_accessed_jobs")
    op.drop_table("service_last_accessed_jobs")
