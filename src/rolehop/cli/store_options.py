"""--database-url and --data-dir, as every command that touches the store takes them (DESIGN.md), and
--master-key-command for those that open the key ring. The options only collect what was typed (None
when not given); rolehop.config.resolve decides between a flag, its environment variable and the
default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rolehop.config import (
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    DEFAULT_DATA_DIR,
    MASTER_KEY_COMMAND_ENV,
    MASTER_KEY_ENV,
    ConfigError,
    ServerConfig,
    resolve,
)

if TYPE_CHECKING:
    from rolehop.services.pipeline.runtime import Runtime

F = TypeVar("F", bound=Callable[..., object])

DATABASE_URL_HELP = f"SQLAlchemy URL [env: {DATABASE_URL_ENV}; default: SQLite in the data directory]."
DATA_DIR_HELP = (
    f"Where the SQLite store and key ring live [env: {DATA_DIR_ENV}; default: {DEFAULT_DATA_DIR}; "
    "serve --dev: a fresh temporary directory]."
)
MASTER_KEY_COMMAND_HELP = (
    "A command (run without a shell) whose standard output is the key ring; it wins over "
    f"{MASTER_KEY_ENV} and the key file [env: {MASTER_KEY_COMMAND_ENV}]."
)


def with_store_options(f: F) -> F:
    f = click.option("--data-dir", type=click.Path(path_type=Path), help=DATA_DIR_HELP)(f)
    return click.option("--database-url", help=DATABASE_URL_HELP)(f)


def with_master_key_option(f: F) -> F:
    return click.option("--master-key-command", metavar="CMD", help=MASTER_KEY_COMMAND_HELP)(f)


def store_config(**settings: Any) -> ServerConfig:
    """rolehop.config.resolve, with a setting it refuses reported as the command's error."""
    try:
        return resolve(**settings)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


@contextmanager
def opened_runtime(config: ServerConfig) -> Iterator[Runtime]:
    """The runtime on the configured store and key ring, closed afterwards. A key command that fails
    or a schema this rolehop may not use is a one-line error, not a traceback."""
    from rolehop.app import build_runtime  # the store only for the commands that need it
    from rolehop.store.revisions import SchemaMismatch, StoreUnreachable

    try:
        rt = build_runtime(config)
    except (ConfigError, SchemaMismatch, StoreUnreachable) as e:
        raise click.ClickException(str(e)) from None
    try:
        yield rt
    finally:
        rt.store.close()
