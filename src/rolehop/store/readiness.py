"""Whether a store can serve, for `GET /_rolehop/health`: reachable, at the schema this rolehop runs on.

A probe every few seconds from a load balancer: one short query, nothing logged (alembic's
MigrationContext logs two INFO lines a call), and a fault raised as it is (the caller says
"unreachable" without the driver's message, which may name hosts and users)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

VERSION_TABLE = "alembic_version"


def schema_revision(engine: Engine) -> str | None:
    """The revision the store's schema is at, None when it has none yet."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if found is None else str(found)
