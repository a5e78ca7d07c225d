"""SQL storage of IAM's service last accessed jobs (implements services.ports.service_last_accessed).

One row per job; its report (JSON) is written once, when the job completes. No cache holds jobs,
so every write here is bookkeeping (no store version bump). Migration 0011 creates the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from rolehop.services.ports.service_last_accessed import AccessReportJob
from rolehop.store.rows import row_dict
from rolehop.store.schema import metadata

TS = DateTime(timezone=True)

access_report_jobs = Table(
    "service_last_accessed_jobs",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("owner_arn", String(2048), nullable=False),
    Column("entity_arn", String(2048), nullable=False),
    Column("granularity", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("completed_at", TS, nullable=True),
    Column("report", Text, nullable=True),
)
Index("ix_service_last_accessed_jobs_created", access_report_jobs.c.created_at)


class AccessReportSqlMixin:
    c: Connection

    def insert_access_report_job(self, job: AccessReportJob) -> None:
        self.c.execute(
            insert(access_report_jobs).values(**job.__dict__).execution_options(rolehop_bookkeeping=True)
        )

    def get_access_report_job(self, job_id: str) -> AccessReportJob | None:
        row = self.c.execute(select(access_report_jobs).where(access_report_jobs.c.job_id == job_id)).first()
        return AccessReportJob(**row_dict(row)) if row is not None else None

    def complete_access_report_job(self, job_id: str, completed_at: datetime, report: str) -> None:
        j = access_report_jobs.c
        self.c.execute(
            update(access_report_jobs)
            .where(j.job_id == job_id, j.report.is_(None))
            .values(completed_at=completed_at, report=report)
            .execution_options(rolehop_bookkeeping=True)
        )

    def delete_access_report_jobs(self, created_before: datetime) -> int:
        j = access_report_jobs.c
        return int(
            self.c.execute(
                delete(access_report_jobs)
                .where(j.created_at < created_before)
                .execution_options(rolehop_bookkeeping=True)
            ).rowcount
        )
