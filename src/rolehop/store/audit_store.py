"""SQL storage of AccessDenied explanations (implements services.ports.audit.AuditTx).

`denials` holds one row per aggregate of identical denials: the first request's ID, time and
explanation, with a count and the last request. `denial_repeats` maps a bounded number of the
repeats' request IDs to their aggregate. Both are kept for RETENTION.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    or_,
    select,
    update,
)

from rolehop.services.ports.audit import DenialRecord, OpenDenial
from rolehop.store.schema import metadata

RETENTION = timedelta(days=30)

denials = Table(
    "denials",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("explanation", Text, nullable=False),
    # rows written before aggregation (migration 0007) have no fingerprint and one occurrence
    Column("fingerprint", String(64), nullable=True),
    Column("occurrences", Integer, nullable=False, server_default="1"),
    Column("last_request_id", String(64), nullable=True, index=True),
    Column("last_at", DateTime(timezone=True), nullable=True),
    Index("ix_denials_fingerprint_at", "fingerprint", "at"),
)

denial_repeats = Table(
    "denial_repeats",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("first_request_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AuditSqlMixin:
    c: Connection

    def open_denial(self, fingerprint: str, since: datetime) -> OpenDenial | None:
        d = denials.c
        row = self.c.execute(
            select(d.request_id, d.occurrences)
            .where(d.fingerprint == fingerprint, d.at >= since)
            .order_by(d.at.desc())
            .limit(1)
        ).first()
        return OpenDenial(row.request_id, int(row.occurrences)) if row else None

    def record_denial(self, request_id: str, at: datetime, fingerprint: str, explanation: str) -> None:
        # explanations are kept for RETENTION: denied calls must not grow the store without bound
        self.c.execute(delete(denials).where(denials.c.at < at - RETENTION))
        self.c.execute(delete(denial_repeats).where(denial_repeats.c.at < at - RETENTION))
        if (
            self.c.execute(select(denials.c.request_id).where(denials.c.request_id == request_id)).first()
            is None
        ):
            self.c.execute(
                insert(denials).values(
                    request_id=request_id,
                    at=at,
                    explanation=explanation,
                    fingerprint=fingerprint,
                    occurrences=1,
                    last_request_id=request_id,
                    last_at=at,
                )
            )

    def repeat_denial(self, first_request_id: str, request_id: str, at: datetime, *, keep_id: bool) -> None:
        d = denials.c
        self.c.execute(
            update(denials)
            .where(d.request_id == first_request_id)
            .values(occurrences=d.occurrences + 1, last_request_id=request_id, last_at=at)
        )
        if keep_id:
            self.c.execute(
                insert(denial_repeats).values(request_id=request_id, first_request_id=first_request_id, at=at)
            )

    def get_denial(self, request_id: str) -> DenialRecord | None:
        d, r = denials.c, denial_repeats.c
        repeat = self.c.execute(select(r.first_request_id, r.at).where(r.request_id == request_id)).first()
        if repeat is not None:
            found = select(denials).where(d.request_id == repeat.first_request_id)
        else:  # the first request of an aggregate, or its latest
            found = select(denials).where(or_(d.request_id == request_id, d.last_request_id == request_id))
        row = self.c.execute(found).first()
        if row is None:
            return None
        first_at = _utc(row.at)
        last_at = _utc(row.last_at) if row.last_at is not None else first_at
        if repeat is not None:
            at = _utc(repeat.at)
        elif row.request_id == request_id:
            at = first_at
        else:
            at = last_at
        return DenialRecord(
            request_id=request_id,
            at=at,
            explanation=str(row.explanation),
            first_request_id=row.request_id,
            first_at=first_at,
            last_request_id=row.last_request_id or row.request_id,
            last_at=last_at,
            count=int(row.occurrences),
        )
