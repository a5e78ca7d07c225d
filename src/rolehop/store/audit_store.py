"""SQL storage of AccessDenied explanations, by request ID (implements services.audit_ports.AuditTx)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Connection, DateTime, String, Table, Text, delete, insert, select

from rolehop.store.schema import metadata

RETENTION = timedelta(days=30)

denials = Table(
    "denials",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("explanation", Text, nullable=False),
)


class AuditSqlMixin:
    c: Connection

    def record_denial(self, request_id: str, at: datetime, explanation: str) -> None:
        # explanations are kept for RETENTION: denied calls must not grow the store without bound
        self.c.execute(delete(denials).where(denials.c.at < at - RETENTION))
        if (
            self.c.execute(select(denials.c.request_id).where(denials.c.request_id == request_id)).first()
            is None
        ):
            self.c.execute(insert(denials).values(request_id=request_id, at=at, explanation=explanation))

    def get_denial(self, request_id: str) -> tuple[datetime, str] | None:
        row = self.c.execute(
            select(denials.c.at, denials.c.explanation).where(denials.c.request_id == request_id)
        )
        found = row.first()
        if found is None:
            return None
        at = found.at if found.at.tzinfo else found.at.replace(tzinfo=UTC)
        return at, str(found.explanation)
