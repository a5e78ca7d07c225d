"""Which schema revision a store is at, against the newest this rolehop knows, and who may move it.

A store is current at the head revision. One that is older (or empty) is upgraded by `rolehop
migrate`, or by the command opening it when its policy allows: SQLite stores always (one node, so
nobody else runs on the old schema), PostgreSQL only when asked (`serve --migrate`), because other
nodes may still run the older rolehop. A revision this rolehop does not know is newer than it: never
touched, whatever the policy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from rolehop.config import MigratePolicy
from rolehop.store.engine import MIGRATIONS, downgrade, make_engine, migrate

WHAT_TO_RUN = (
    "run `rolehop migrate` with the same --database-url (or start one node with `rolehop serve --migrate`)"
)
MIGRATION_LOCK = 0x726F6C65  # PostgreSQL advisory lock key ("role") that serializes migrations


class SchemaMismatch(Exception):
    """The store's schema is not the one this rolehop runs on; the message says what to do."""


class StoreUnreachable(Exception):
    """The database did not answer; the message names it without its password."""


def _unreachable(engine: Engine) -> StoreUnreachable:
    return StoreUnreachable(f"cannot reach the store at {engine.url.render_as_string(hide_password=True)}")


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def known_revisions() -> tuple[str, ...]:
    """Oldest first."""
    return tuple(reversed([s.revision for s in _scripts().walk_revisions()]))


def head_revision() -> str:
    return known_revisions()[-1]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def mismatch(current: str | None, head: str) -> SchemaMismatch | None:
    """Why a store at `current` cannot serve this rolehop (at `head`), or None when it can."""
    if current == head:
        return None
    if current is None:
        return SchemaMismatch(f"the store has no schema yet (this rolehop's is {head}): {WHAT_TO_RUN}")
    if current not in known_revisions():
        return _newer(current, head)
    return SchemaMismatch(
        f"the store's schema is at {current}, older than this rolehop's {head}: {WHAT_TO_RUN}"
    )


def _newer(current: str, head: str) -> SchemaMismatch:
    return SchemaMismatch(
        f"the store's schema is at {current}, newer than this rolehop knows (its newest is {head}): "
        "run the rolehop version that migrated it, or a newer one"
    )


@contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """Several nodes started with `serve --migrate` (or two `rolehop migrate`s) take turns: the
    later ones find the work done. PostgreSQL: a session advisory lock, waited for as long as the
    other migration takes. SQLite: each migration's transaction holds the write lock already."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            conn.rollback()  # the timeouts back to the pool's


def upgrade(engine: Engine, to: str = "head") -> tuple[str | None, str]:
    """Moves the store to revision `to`, forward or back; returns (before, after). Raises
    SchemaMismatch for a store newer than this rolehop, or a revision it does not know."""
    with _one_at_a_time(engine):
        return _upgrade(engine, to)


def _upgrade(engine: Engine, to: str) -> tuple[str | None, str]:
    known = known_revisions()
    before = current_revision(engine)
    if before is not None and before not in known:
        raise _newer(before, known[-1])
    target = known[-1] if to == "head" else to
    if target not in known:
        raise SchemaMismatch(f"{to} is not a schema revision this rolehop knows ({', '.join(known)})")
    if before is not None and known.index(target) < known.index(before):
        downgrade(engine, target)
    elif target != before:
        migrate(engine, target)
    return before, target


def prepare(engine: Engine, policy: MigratePolicy) -> None:
    """What opening a store does to its schema under `policy`; raises SchemaMismatch when the store
    may not be used as it is, StoreUnreachable when the database does not answer."""
    try:
        current = current_revision(engine)
    except OperationalError as e:
        raise _unreachable(engine) from e
    if policy == "always" or (policy == "when-empty" and current is None):
        upgrade(engine)
        return
    problem = mismatch(current, head_revision())
    if problem is not None:
        raise problem


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    """An engine on `url` that has answered once (or StoreUnreachable), disposed afterwards."""
    engine = make_engine(url)
    try:
        try:
            engine.connect().close()
        except OperationalError as e:
            raise _unreachable(engine) from e
        yield engine
    finally:
        engine.dispose()


def revision_of(url: str) -> str | None:
    """The schema revision of the store at `url` (None: no schema yet)."""
    with _engine(url) as engine:
        return current_revision(engine)


def upgrade_store(url: str, to: str = "head") -> tuple[str | None, str]:
    """`upgrade` on the store at `url`: what `rolehop migrate` does."""
    with _engine(url) as engine:
        return upgrade(engine, to)
