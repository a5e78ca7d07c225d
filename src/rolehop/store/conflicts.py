"""Database errors that mean a write lost a race with another writer, told apart from faults.

PostgreSQL names them by SQLSTATE, SQLite (Python 3.11+) by its extended result code's name.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# a row with this key exists already
DUPLICATE = frozenset({"23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
# the row another refers to is gone (deleted by a transaction that committed first)
MISSING_PARENT = frozenset({"23503", "SQLITE_CONSTRAINT_FOREIGNKEY"})
# serialization failure, deadlock, lock not available
POSTGRES_LOST = frozenset({"40001", "40P01", "55P03"})


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
