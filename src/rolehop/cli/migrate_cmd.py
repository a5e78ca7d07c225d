"""`rolehop migrate`: bring a store's schema to the newest this rolehop knows (or to `--to REVISION`),
or `--check` whether it is there. The step before starting upgraded nodes on a PostgreSQL store,
which refuse a schema other than their own (docs/deployment.md, Upgrades)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rolehop.cli.store_options import store_config, with_store_options


@click.command(name="migrate")
@click.option(
    "--to", "to", default="head", show_default=True, metavar="REVISION", help="The revision to move to."
)
@click.option("--check", is_flag=True, help="Change nothing; exit 1 unless the store is at the revision.")
@with_store_options
def migrate_command(to: str, check: bool, database_url: str | None, data_dir: Path | None) -> None:
    """Upgrade the store's schema to the newest revision (or --to REVISION, forward or back)."""
    from rolehop.store.revisions import (  # the store only for the commands that need it
        SchemaMismatch,
        StoreUnreachable,
        head_revision,
        mismatch,
        revision_of,
        upgrade_store,
    )

    config = store_config(database_url=database_url, data_dir=data_dir)
    wanted = head_revision() if to == "head" else to
    try:
        if check:
            current = revision_of(config.store_url)
            if current != wanted:
                problem = mismatch(current, wanted) if to == "head" else None
                click.echo(
                    str(problem or f"the store's schema is at {current or 'nothing'}, not {wanted}"), err=True
                )
                sys.exit(1)
            click.echo(f"The store's schema is at {wanted}: current.")
            return
        config.data_dir.mkdir(parents=True, exist_ok=True)  # a new SQLite store's directory
        before, after = upgrade_store(config.store_url, to)
    except (SchemaMismatch, StoreUnreachable) as e:
        raise click.ClickException(str(e)) from None
    if before == after:
        click.echo(f"The store's schema is already at {after}.")
    else:
        click.echo(f"Migrated the store's schema from {before or 'nothing'} to {after}.")
