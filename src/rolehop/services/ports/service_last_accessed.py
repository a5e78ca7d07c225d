"""The storage port of IAM's service last accessed reports (GenerateServiceLastAccessedDetails).

A job is stored when it is generated and its report when it is first read (computed then from the
audit trail); the report never changes after that, so paging through it is stable. Jobs expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class AccessReportJob:
    job_id: str
    account_id: str
    owner_arn: str  # who generated it: only they may read it (a user, or one role session)
    entity_arn: str  # the user, group, role or managed policy reported on
    granularity: str  # SERVICE_LEVEL or ACTION_LEVEL
    created_at: datetime
    completed_at: datetime | None = None
    report: str | None = None  # JSON, written once when the job completes


class AccessReportTx(Protocol):
    def insert_access_report_job(self, job: AccessReportJob) -> None: ...
    def get_access_report_job(self, job_id: str) -> AccessReportJob | None: ...
    def complete_access_report_job(self, job_id: str, completed_at: datetime, report: str) -> None:
        """Stores the report of a job that has none yet (a report already stored is kept)."""
        ...

    def delete_access_report_jobs(self, created_before: datetime) -> int: ...
