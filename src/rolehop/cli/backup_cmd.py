"""`rolehop backup FILE` and `rolehop restore FILE`: a consistent snapshot of the store, and its
restore into an empty store (SQLite or PostgreSQL, either way). Secrets stay sealed: keep the key
ring (DATA_DIR/keyring or ROLEHOP_MASTER_KEY) with the backup, or the restored secrets stay shut."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rolehop.cli.store_options import with_store_options
from rolehop.config import resolve
from rolehop.store.backup import BackupError, backup, restore


def _summary(rows: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(rows.items()) if count) or "no rows"


@click.command(name="backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_store_options
def backup_command(file: Path, database_url: str | None, data_dir: Path | None) -> None:
    """Write a consistent snapshot of the store to FILE ('-' for standard output)."""
    config = resolve(database_url=database_url, data_dir=data_dir)
    try:
        if str(file) == "-":
            summary = backup(config.store_url, sys.stdout)
        else:
            with file.open("x") as out:  # never overwrite an earlier backup
                summary = backup(config.store_url, out)
    except FileExistsError as e:
        raise click.ClickException(f"{file} exists: choose a new file name") from e
    except BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Backed up schema {summary.revision}: {_summary(summary.rows)}.", err=True)


@click.command(name="restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_store_options
def restore_command(file: Path, database_url: str | None, data_dir: Path | None) -> None:
    """Restore FILE into an empty store (it refuses one that holds anything)."""
    config = resolve(database_url=database_url, data_dir=data_dir)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with file.open() as source:
            summary = restore(config.store_url, source)
    except BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Restored a backup of schema {summary.revision}: {_summary(summary.rows)}.")
