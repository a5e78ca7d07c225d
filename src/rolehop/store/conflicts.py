"""Database errors sorted: a write that lost a race with another writer (the client may send it
again: ConcurrentModification), a database that cannot be reached (ServiceUnavailable), or a fault.

PostgreSQL names them by SQLSTATE, SQLite (Python 3.11+) by its extended result code's name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from rolehop.core.errors import ServiceUnavailable

log = logging.getLogger("rolehop.store")

# AWS's message for ServiceUnavailable; never the driver's, which names the database's host
UNAVAILABLE = "The request has failed due to a temporary failure of the server."

# a row with this key exists already
DUPLICATE = frozenset({"23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
# the row another refers to is gone (deleted by a transaction that committed first)
MISSING_PARENT = frozenset({"23503", "SQLITE_CONSTRAINT_FOREIGNKEY"})
# serialization failure, deadlock, lock not available
POSTGRES_LOST = frozenset({"40001", "40P01", "55P03"})
# the server shutting down, crashed, starting up, out of connections, or a statement past its timeout
POSTGRES_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300", "57014"})
CONNECTION_EXCEPTION = "08"  # SQLSTATE class: the connection failed or broke


def error_code(error: DBAPIError) -> str:
    """The database's own code for the error ("" when the driver gives none); never its message,
    which may quote the statement's parameters."""
    orig = error.orig
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None) or "")


def is_duplicate(error: DBAPIError) -> bool:
    return error_code(error) in DUPLICATE


def lost_race(error: DBAPIError) -> bool:
    """True for a conflict with a concurrent writer: the same request may succeed when sent again."""
    code = error_code(error)
    return (
        code in DUPLICATE
        or code in MISSING_PARENT
        or code in POSTGRES_LOST
        or code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    )


def unreachable(error: DBAPIError) -> bool:
    """True when the database could not be reached or dropped the connection: the request may
    succeed later, on another connection. psycopg gives no SQLSTATE for a failed connect or a closed
    socket; SQLAlchemy flags the disconnects it recognizes (and then discards the pooled connections)."""
    code = error_code(error)
    return (
        error.connection_invalidated
        or code.startswith(CONNECTION_EXCEPTION)
        or code in POSTGRES_UNAVAILABLE
        or (isinstance(error, OperationalError) and not code)
    )


@contextmanager
def answered_when_unreachable() -> Iterator[None]:
    """The one place where a database that cannot be reached (or a connection pool that stays empty
    past its timeout) becomes ServiceUnavailable; every other database error passes through."""
    try:
        yield
    except DBAPIError as e:
        if not unreachable(e):
            raise
        log.warning("the store is unreachable (%s): answered ServiceUnavailable", _kind(e))
        raise ServiceUnavailable(UNAVAILABLE) from e
    except PoolTimeout as e:
        log.warning("no database connection free in time: answered ServiceUnavailable")
        raise ServiceUnavailable(UNAVAILABLE) from e


def _kind(error: DBAPIError) -> str:
    return error_code(error) or type(error.orig).__name__
