"""The `rolehop` command."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from rolehop import logs
from rolehop.cli.accounts_cmd import accounts
from rolehop.cli.audit_cmd import audit
from rolehop.cli.backup_cmd import backup_command, restore_command
from rolehop.cli.explain_cmd import explain
from rolehop.cli.keys_cmd import keys
from rolehop.cli.mfa_cmd import mfa
from rolehop.cli.migrate_cmd import migrate_command
from rolehop.cli.org_cmds import apply, demo, export, plan
from rolehop.cli.policy_cmd import policy
from rolehop.cli.store_options import DATA_DIR_HELP, DATABASE_URL_HELP, MASTER_KEY_COMMAND_HELP
from rolehop.cli.user import assume, configure, console, login, logout, roles, whoami
from rolehop.config import (
    AUDIT_ORG_VIEW_ENV,
    AUDIT_RETENTION_ENV,
    AUDIT_TRAIL_ENV,
    BODY_TIMEOUT_ENV,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMIT,
    FORWARDED_ALLOW_IPS_ENV,
    LOG_FORMAT_ENV,
    METRICS_ENV,
    RATE_BURST_ENV,
    RATE_LIMIT_ENV,
    ConfigError,
    resolve,
)


@click.group()
@click.version_option(package_name="rolehop")
def main() -> None:
    """rolehop: a self-hosted, AWS-compatible identity plane."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--data-dir", type=click.Path(path_type=Path), help=DATA_DIR_HELP)
@click.option(
    "--migrate",
    is_flag=True,
    help="Upgrade a PostgreSQL store to this rolehop's schema before serving (without it, a schema "
    "other than this rolehop's is refused; a SQLite store is always upgraded).",
)
@click.option("--master-key-command", metavar="CMD", help=MASTER_KEY_COMMAND_HELP)
@click.option(
    "--dev", is_flag=True, help="Development mode: /_rolehop/reset, account 123456789012 by default."
)
@click.option("--account-id", help="The management account's ID.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes sharing the store and key ring (one per core).",
)
@click.option(
    "--encoded-denials",
    is_flag=True,
    help="AccessDenied messages carry an encoded explanation for STS DecodeAuthorizationMessage "
    "(off: AWS's plain form).",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="Reverse proxies (comma-separated addresses or CIDR blocks) whose X-Forwarded-For and "
    f"X-Forwarded-Proto give the client's address and scheme [default: none; env {FORWARDED_ALLOW_IPS_ENV}].",
)
@click.option(
    "--body-timeout",
    type=float,
    metavar="SECONDS",
    help=f"Time to receive a request's body before answering 408 [default: {DEFAULT_BODY_TIMEOUT:g}; "
    f"env {BODY_TIMEOUT_ENV}].",
)
@click.option(
    "--rate-limit",
    type=float,
    metavar="REQUESTS_PER_SECOND",
    help="API requests a second per principal, four times that per source address, before Throttling "
    f"(0: off) [default: {DEFAULT_RATE_LIMIT:g}, off with --dev; env {RATE_LIMIT_ENV}].",
)
@click.option(
    "--rate-burst",
    type=float,
    metavar="REQUESTS",
    help=f"Requests a principal may make at once above the rate [default: twice it; env {RATE_BURST_ENV}].",
)
@click.option(
    "--metrics/--no-metrics",
    default=None,
    help=f"Serve Prometheus metrics at GET /metrics [default: on; env {METRICS_ENV}=on|off].",
)
@click.option(
    "--audit-trail/--no-audit-trail",
    default=None,
    help=f"Record every call as a CloudTrail event [default: on; env {AUDIT_TRAIL_ENV}=on|off].",
)
@click.option(
    "--audit-retention-days",
    type=int,
    metavar="DAYS",
    help=f"Days the audit trail keeps events [default: 90; env {AUDIT_RETENTION_ENV}].",
)
@click.option(
    "--audit-org-view/--no-audit-org-view",
    default=None,
    help=(
        "Let the management account's event history show every account's events "
        f"[default: off; env {AUDIT_ORG_VIEW_ENV}=on|off]."
    ),
)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    help=f"One JSON object a line, or text [default: text on a terminal, else json; env {LOG_FORMAT_ENV}].",
)
def serve(
    host: str,
    port: int,
    database_url: str | None,
    data_dir: Path | None,
    migrate: bool,
    master_key_command: str | None,
    dev: bool,
    account_id: str | None,
    encoded_denials: bool,
    workers: int,
    forwarded_allow_ips: str | None,
    body_timeout: float | None,
    rate_limit: float | None,
    rate_burst: float | None,
    metrics: bool | None,
    audit_trail: bool | None,
    audit_retention_days: int | None,
    audit_org_view: bool | None,
    log_format: str | None,
) -> None:
    """Serve the AWS API and the console on one port."""
    import uvicorn

    from rolehop.app import UVICORN_OPTIONS, WORKER_CONFIG_ENV, create_app, worker_config_json
    from rolehop.metrics import MULTIPROC_ENV
    from rolehop.store.revisions import SchemaMismatch, StoreUnreachable

    try:
        config = resolve(
            host=host,
            port=port,
            data_dir=data_dir,
            database_url=database_url,
            dev=dev,
            account_id=account_id,
            encode_denials=encoded_denials,
            forwarded_allow_ips=forwarded_allow_ips,
            body_timeout=body_timeout,
            master_key_command=master_key_command,
            migrate="always" if migrate else "never",
            rate_limit=rate_limit,
            rate_burst=rate_burst,
            metrics=metrics,
            log_format=log_format,
            audit_trail=audit_trail,
            audit_retention_days=audit_retention_days,
            audit_org_view=audit_org_view,
        )
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    logs.configure(config.log_format)
    try:
        app = create_app(config)  # migrates and bootstraps the store once, before any worker starts
    except (ConfigError, SchemaMismatch, StoreUnreachable) as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"rolehop serving http://{host}:{port} (account {config.management_account_id}, "
        f"store {app.rt.store!r}, {workers} worker{'s' if workers > 1 else ''})"
    )
    if workers == 1:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            **UVICORN_OPTIONS,
        )
        return
    # several processes share the store and the key ring, like several nodes (a write in one drops
    # the others' caches within a second: store.versions)
    app.rt.store.close()
    os.environ[WORKER_CONFIG_ENV] = worker_config_json(config)
    # each worker keeps its metrics in files here, and a scrape of any worker adds them all up
    # (prometheus_client's multiprocess mode): a fresh directory, so no dead run's counts are added
    with tempfile.TemporaryDirectory(prefix="rolehop-metrics-") as metrics_dir:
        os.environ[MULTIPROC_ENV] = metrics_dir
        try:
            uvicorn.run(
                "rolehop.app:worker_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_config=None,
                log_level="warning",
                access_log=False,
                **UVICORN_OPTIONS,
            )
        finally:
            del os.environ[MULTIPROC_ENV]  # the directory goes with the run


main.add_command(policy)
main.add_command(plan)
main.add_command(apply)
main.add_command(export)
main.add_command(explain)
main.add_command(audit)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(keys)
main.add_command(accounts)
main.add_command(migrate_command)
main.add_command(demo)
main.add_command(mfa)
main.add_command(configure)
main.add_command(assume)
main.add_command(login)
main.add_command(console)
main.add_command(whoami)
main.add_command(roles)
main.add_command(logout)
