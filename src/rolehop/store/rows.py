"""Rows -> plain values: what every store module needs when it builds entities."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, insert
from sqlalchemy.exc import IntegrityError

from rolehop.core.errors import EntityAlreadyExists
from rolehop.store.conflicts import is_duplicate


def utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything rolehop stores is UTC
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def row_dict(row: Row[Any]) -> dict[str, Any]:
    return {k: (utc(v) if isinstance(v, datetime) else v) for k, v in row._mapping.items()}


def insert_unique(conn: Connection, table: Table, values: dict[str, Any], conflict_message: str) -> None:
    """Inserts a row; a clash on a unique key is EntityAlreadyExists and leaves the transaction usable.
    Any other violation (a row it refers to was deleted meanwhile) is left to `SqlStore.transaction`."""
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(values))
    except IntegrityError as e:
        if not is_duplicate(e):
            raise
        raise EntityAlreadyExists(conflict_message) from e
