"""`rolehop apply` and `rolehop demo`: load an organization file into the store (and serve it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
import yaml

from rolehop.cli.store_options import (
    opened_runtime,
    store_config,
    with_master_key_option,
    with_store_options,
)
from rolehop.config import ServerConfig
from rolehop.services.admin.apply import Spec, SpecError, apply_spec, parse_spec


def read_spec(file: Path) -> Spec:
    try:
        return parse_spec(yaml.safe_load(file.read_text()))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise click.ClickException(f"{file}: not valid YAML{where}") from e
    except SpecError as e:
        raise click.ClickException(f"{file}: {e}") from e


def apply_file(
    file: Path, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> tuple[ServerConfig, list[str]]:
    """Loads FILE into the store. An empty PostgreSQL store gets the newest schema (a new
    deployment's first step, and the demo's); an older one is left to `rolehop migrate`, since nodes
    may still run on it."""
    from rolehop.services.admin import bootstrap

    spec = read_spec(file)
    config = store_config(
        database_url=database_url,
        data_dir=data_dir,
        account_id=str(spec.management["id"]),
        master_key_command=master_key_command,
        migrate="when-empty",
    )
    with opened_runtime(config) as rt:
        try:
            bootstrap.bootstrap(rt, config.root_access_key_id, config.root_secret.reveal() or None)
            return config, apply_spec(rt, spec)
        except SpecError as e:
            raise click.ClickException(f"{file}: {e}") from e


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_store_options
@with_master_key_option
def apply(
    file: Path, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Create or update the organization FILE describes (idempotent; all or nothing)."""
    _config, changes = apply_file(file, database_url, data_dir, master_key_command)
    if not changes:
        click.echo(f"No changes: the store already matches {file}.")
        return
    for change in changes:
        click.echo(f"  {change}")
    click.echo(f"Applied {file}: {len(changes)} change(s).")


@click.command()
@click.option(
    "--file",
    "file",
    default="examples/aster-key.yaml",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--port", default=4640, show_default=True, type=int)
@with_store_options
@with_master_key_option
def demo(
    file: Path, port: int, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Apply the example organization and serve it, printing how to connect."""
    import uvicorn

    from rolehop.app import create_app

    config, changes = apply_file(file, database_url, data_dir, master_key_command)
    click.echo(f"Applied {file}: {len(changes)} change(s)." if changes else f"{file} already applied.")
    config = replace(config, port=port)
    app = create_app(config)
    url = f"http://127.0.0.1:{port}"
    spec = read_spec(file)
    account = spec.management.get("alias") or config.management_account_id
    people = "\n".join(
        f"  {u['name']:<10} {u['initial_password']}" for u in spec.users if u.get("initial_password")
    )
    click.echo(f"""
rolehop is serving the {file.stem} organization at {url}
  management account: {config.management_account_id}

Point the AWS CLI or boto3 at it with the management account's root key:
  export AWS_ENDPOINT_URL={url}
  export AWS_ACCESS_KEY_ID={config.root_access_key_id or "<ROLEHOP_ROOT_ACCESS_KEY_ID>"}
  export AWS_SECRET_ACCESS_KEY=<the demo secret from the Makefile, DEMO_ROOT_SECRET>
  export AWS_DEFAULT_REGION=us-east-1
  aws sts get-caller-identity
  aws iam list-users
  aws organizations list-accounts

Sign in to the console at {url}/ with account {account} ({config.management_account_id}) and, until
changed at first sign-in, these initial passwords:
{people or "  (the file gives no initial passwords)"}

Stop with Ctrl-C.""")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
