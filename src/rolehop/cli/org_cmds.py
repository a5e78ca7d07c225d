"""The organization as code: `rolehop plan` (what a file would change; exit 0 none, 2 some, 1 an
error), `rolehop apply` (make it so, in one transaction; `--prune` deletes what the file does not
name), `rolehop export` (the live organization as a file), and `rolehop demo` (apply the example and
serve it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import yaml

from rolehop.cli.org_render import ApplyView, console, show_plan
from rolehop.cli.store_options import (
    opened_runtime,
    store_config,
    with_master_key_option,
    with_store_options,
)
from rolehop.config import ServerConfig
from rolehop.services.admin.apply import Applied, SpecError, apply_spec, parse_spec, plan_spec
from rolehop.services.admin.org_model import OrgModel

PRUNE_HELP = "Also delete the objects of the store the file does not name (listed as unmanaged)."


def read_spec(file: Path) -> OrgModel:
    try:
        return parse_spec(yaml.safe_load(file.read_text()))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise click.ClickException(f"{file}: not valid YAML{where}") from e
    except SpecError as e:
        raise click.ClickException(f"{file}: {e}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise click.ClickException(f"{file}: {e}") from e


def _config(spec: OrgModel, **options: Any) -> ServerConfig:
    assert spec.management is not None
    return store_config(account_id=spec.management.account_id, **options)


def apply_file(
    file: Path,
    database_url: str | None,
    data_dir: Path | None,
    master_key_command: str | None,
    *,
    prune: bool = False,
) -> tuple[ServerConfig, Applied]:
    """Applies FILE to the store, showing the plan. An empty PostgreSQL store gets the newest schema
    (a new deployment's first step, and the demo's); an older one is left to `rolehop migrate`,
    since nodes may still run on it."""
    from rolehop.services.admin import bootstrap

    spec = read_spec(file)
    config = _config(
        spec,
        database_url=database_url,
        data_dir=data_dir,
        master_key_command=master_key_command,
        migrate="when-empty",
    )
    view = ApplyView(file)
    with opened_runtime(config) as rt:
        try:
            bootstrap.bootstrap(rt, config.root_access_key_id, config.root_secret.reveal() or None)
            applied = apply_spec(rt, spec, prune=prune, show=view.show, step=view.step)
        except SpecError as e:
            raise click.ClickException(f"{file}: {e}") from e
        finally:
            view.close()
    return config, applied


def _show_passwords(applied: Applied) -> None:
    if applied.passwords:
        click.echo("One-time console passwords, shown this once (each must be changed at first sign-in):")
        for user, password in applied.passwords:
            click.echo(f"  {user}: {password}")


class PlanUsageError(click.UsageError):
    exit_code = 1


class PlanCommand(click.Command):
    """A command whose exit code 2 means "changes" (terraform plan -detailed-exitcode): its usage
    errors (a missing argument, an unknown option, a file that is not there) exit 1, where Click
    exits 2."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as e:
            raise PlanUsageError(e.format_message(), e.ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            raise PlanUsageError(e.format_message(), e.ctx) from None


@click.command(cls=PlanCommand)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Plan apply --prune: show deletions of unmanaged objects.")
@with_store_options
@with_master_key_option
def plan(
    file: Path, prune: bool, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Show what `apply FILE` would change, and change nothing.

    Exit status: 0 when the store matches FILE, 2 when apply would change something, 1 on any error
    (usage errors included). Unmanaged objects (in the store, not in FILE) are listed, and change
    the exit status only with --prune."""
    spec = read_spec(file)
    config = _config(
        spec, database_url=database_url, data_dir=data_dir, master_key_command=master_key_command
    )
    with opened_runtime(config) as rt:
        try:
            found = plan_spec(rt, spec, prune=prune)
        except SpecError as e:
            raise click.ClickException(f"{file}: {e}") from e
    show_plan(console(), found, file)
    if found.changes:
        raise click.exceptions.Exit(2)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help=PRUNE_HELP)
@with_store_options
@with_master_key_option
def apply(
    file: Path, prune: bool, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Create or update the organization FILE describes (idempotent; all or nothing).

    Shows the plan first (as `rolehop plan`), then applies it in one transaction. A user given
    console_access without a password gets a one-time password, printed here once."""
    _config, applied = apply_file(file, database_url, data_dir, master_key_command, prune=prune)
    if applied.plan.changes:
        click.echo(f"Applied {file}: {len(applied.plan.changes)} change(s).")
    _show_passwords(applied)


@click.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the file here [default: standard output].",
)
@with_store_options
@with_master_key_option
def export(
    output: Path | None, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Write the live organization as an organization file: accounts, OUs, organization policies
    and their targets, delegated administrators, IAM policies, groups, users and roles. Never a
    secret: a user with a console password is `console_access: true`."""
    from rolehop.services.admin.org_export import export_organization

    config = store_config(database_url=database_url, data_dir=data_dir, master_key_command=master_key_command)
    with opened_runtime(config) as rt:
        try:
            text = export_organization(rt)
        except SpecError as e:
            raise click.ClickException(str(e)) from e
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text)
    click.echo(f"Exported the organization to {output}.", err=True)


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

    config, applied = apply_file(file, database_url, data_dir, master_key_command)
    click.echo(
        f"Applied {file}: {len(applied.plan.changes)} change(s)."
        if applied.plan.changes
        else f"{file} already applied."
    )
    _show_passwords(applied)
    config = replace(config, port=port)
    app = create_app(config)
    url = f"http://127.0.0.1:{port}"
    spec = read_spec(file)
    assert spec.management is not None
    account = spec.management.alias or config.management_account_id
    people = "\n".join(
        f"  {u.name:<10} {u.initial_password}"
        for u in spec.identities
        if u.kind == "user" and u.initial_password
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
