"""Backups: a consistent snapshot of a store as JSON lines, and its restore into an empty store.

The snapshot is read in one transaction (PostgreSQL: REPEATABLE READ, so every table is read as of
one instant; SQLite: one read transaction, which WAL keeps consistent). Secrets stay as they are
stored, sealed with the key ring, which is not in the file: a restored store opens its secrets only
with the same key ring. The file names the schema revision it was taken at; a restore migrates the
empty target to that revision, inserts the rows, then migrates to the newest one, so an older
backup restores into a newer rolehop. The format is the same for SQLite and PostgreSQL, so a backup
also moves a store from one to the other.

Line 1 is a header {"format", "version", "revision", "taken_at", "tables": {name: row count}};
every other line is {"table": name, "row": {column: value}}, bytes as {"$b64": …} and times as
{"$time": ISO 8601}.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, func, insert, select, text

from rolehop.store.engine import make_engine, migrate

FORMAT = "rolehop-backup"
VERSION = 1
_SKIPPED = ("alembic_version", "store_version")  # the target keeps its own schema revision and version


class BackupError(Exception):
    """A backup that cannot be taken or restored; the message says why, never with a secret."""


@dataclass(frozen=True)
class BackupSummary:
    revision: str
    rows: dict[str, int]


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):  # SQLite returns UTC times without their zone
        return {"$time": (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$b64" in value:
            return base64.b64decode(value["$b64"])
        if "$time" in value:
            return datetime.fromisoformat(value["$time"])
    return value


def _revision(conn: Connection) -> str:
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        raise BackupError("the store has no schema yet (nothing was ever stored in it)")
    return revision


def _tables(conn: Connection) -> MetaData:
    """The tables as they are in this database (not as this rolehop's schema says), parents first."""
    meta = MetaData()
    meta.reflect(conn)
    return meta


def _snapshot(conn: Connection) -> Iterator[dict[str, Any]]:
    revision = _revision(conn)
    meta = _tables(conn)
    tables = [t for t in meta.sorted_tables if t.name not in _SKIPPED]
    counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
    yield {
        "format": FORMAT,
        "version": VERSION,
        "revision": revision,
        "taken_at": datetime.now(UTC).isoformat(),
        "tables": counts,
    }
    for table in tables:
        order = list(table.primary_key.columns) or list(table.columns)
        for row in conn.execute(select(table).order_by(*order)):
            yield {"table": table.name, "row": {k: _encode(v) for k, v in row._mapping.items()}}


def backup(url: str, out: IO[str]) -> BackupSummary:
    """Writes a snapshot of the store at `url` to `out`; returns what it wrote."""
    engine = make_engine(url)
    try:
        conn = engine.connect()
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn, conn.begin():
            lines = _snapshot(conn)
            header = next(lines)
            out.write(json.dumps(header) + "\n")
            for line in lines:
                out.write(json.dumps(line, separators=(",", ":")) + "\n")
        return BackupSummary(header["revision"], header["tables"])
    finally:
        engine.dispose()


def _read_header(source: IO[str]) -> dict[str, Any]:
    try:
        header = json.loads(source.readline())
    except json.JSONDecodeError as e:
        raise BackupError("not a rolehop backup (the first line is not JSON)") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("not a rolehop backup (no rolehop-backup header)")
    if header.get("version") != VERSION:
        raise BackupError(f"backup format version {header.get('version')} is not one this rolehop reads")
    return header


def _check_empty(conn: Connection, meta: MetaData) -> None:
    for table in meta.sorted_tables:
        if table.name not in _SKIPPED and conn.execute(select(table).limit(1)).first() is not None:
            raise BackupError(
                f"the target store is not empty (table {table.name} has rows): restore needs an empty one"
            )


def _advance_sequences(conn: Connection, meta: MetaData) -> None:
    """PostgreSQL: serial columns continue after the restored rows, not from 1."""
    for table in meta.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if sequence:
                after = (conn.execute(select(func.max(column))).scalar() or 0) + 1
                conn.execute(text("SELECT setval(:s, :v, false)"), {"s": sequence, "v": after})


def restore(url: str, source: IO[str]) -> BackupSummary:
    """Restores a backup into the empty store at `url`, all or nothing, then migrates it to the
    newest schema. Raises BackupError when the file or the target is unsuitable."""
    header = _read_header(source)
    engine = make_engine(url)
    try:
        with engine.connect() as probe:
            current = MigrationContext.configure(probe).get_current_revision()
        if current is None:
            migrate(engine, header["revision"])  # an empty database: the backup's own schema
        with engine.begin() as conn:
            meta = _tables(conn)
            if _revision(conn) != header["revision"]:
                raise BackupError(
                    f"the target store's schema is at {_revision(conn)}, the backup's at "
                    f"{header['revision']}: restore into an empty database"
                )
            _check_empty(conn, meta)
            counts: dict[str, int] = {}
            for number, line in enumerate(source, start=2):
                try:
                    entry = json.loads(line)
                    table = meta.tables[entry["table"]]
                    row = {k: _decode(v) for k, v in entry["row"].items()}
                except (json.JSONDecodeError, KeyError, TypeError) as e:
                    raise BackupError(f"line {number} of the backup is damaged") from e
                conn.execute(insert(table).values(row))
                counts[table.name] = counts.get(table.name, 0) + 1
            expected = {k: v for k, v in header["tables"].items() if v}
            if counts != expected:
                raise BackupError(f"the backup is incomplete: expected rows {expected}, found {counts}")
            if engine.dialect.name == "postgresql":
                _advance_sequences(conn, meta)
        migrate(engine)
        return BackupSummary(header["revision"], counts)
    finally:
        engine.dispose()
