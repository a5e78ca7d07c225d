"""SQL storage of AccessDenied explanations, by request ID (implements services.audit_ports.AuditTx)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Connection, DateTime, String, Table, Text, insert, select

from rolehop.store.schema import metadata

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
