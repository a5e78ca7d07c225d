"""--database-url and --data-dir, as every command that touches the store takes them (DESIGN.md).
The options only collect what was typed (None when not given); rolehop.config.resolve decides
between a flag, its environment variable and the default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from rolehop.config import DATA_DIR_ENV, DATABASE_URL_ENV, DEFAULT_DATA_DIR

F = TypeVar("F", bound=Callable[..., object])

DATABASE_URL_HELP = f"SQLAlchemy URL [env: {DATABASE_URL_ENV}; default: SQLite in the data directory]."
DATA_DIR_HELP = (
    f"Where the SQLite store and key ring live [env: {DATA_DIR_ENV}; default: {DEFAULT_DATA_DIR}; "
    "serve --dev: a fresh temporary directory]."
)


def with_store_options(f: F) -> F:
    f = click.option("--data-dir", type=click.Path(path_type=Path), help=DATA_DIR_HELP)(f)
    return click.option("--database-url", help=DATABASE_URL_HELP)(f)
