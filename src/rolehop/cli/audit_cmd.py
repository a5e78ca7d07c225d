"""`rolehop audit`: the audit trail for operators.

`verify` proves that no event was altered, removed or reordered (exit 0), or names the one that was
(exit 1); `public-key` prints the signing keys' public halves to pin (`verify --public-key`);
`export` and `tail` print the stored CloudTrail records as JSON lines, oldest first, for a SIEM or
jq (`tail --follow` keeps printing new ones); `prune` applies the retention period now.

`verify`, `public-key`, `export` and `tail` read the store only: they need no key ring, no secret.
`prune` opens the key ring, since a prune is itself recorded and signed.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from rolehop.cli.store_options import opened_runtime, store_config, with_master_key_option, with_store_options
from rolehop.config import ServerConfig
from rolehop.core.trail_chain import parse_public_key, public_pem

if TYPE_CHECKING:
    from rolehop.services.ports.store import Store
    from rolehop.services.ports.trail import StoredEvent

FOLLOW_SECONDS = 0.5  # how often `tail --follow` looks for new events
_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TIME_HELP = "ISO 8601 (2026-12-03, 2026-12-03T14:00:00Z; UTC unless it says) or a time ago (90m, 12h, 2d, 1w)"


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 date or time (UTC unless it names its offset), or a time ago: 90s, 30m, 12h, 2d, 1w."""
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO 8601 time nor a time ago such as 2d or 12h") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as e:
        raise click.BadParameter(str(e), ctx=ctx, param=param) from None


@contextmanager
def _store(database_url: str | None, data_dir: Path | None) -> Iterator[Store]:
    """The configured store, read without the key ring; a missing SQLite store is an error, not a new one."""
    from rolehop.store.revisions import SchemaMismatch, StoreUnreachable  # the store only when used
    from rolehop.store.sql import SqlStore

    config = store_config(database_url=database_url, data_dir=data_dir)
    _exists(config)
    try:
        store = SqlStore(config.store_url, migrate=config.migrate)
    except (SchemaMismatch, StoreUnreachable) as e:
        raise click.ClickException(str(e)) from None
    try:
        yield store
    finally:
        store.close()


def _exists(config: ServerConfig) -> None:
    if config.database_url is None and not (config.data_dir / "rolehop.db").exists():
        raise click.ClickException(
            f"no rolehop store in {config.data_dir} (give --data-dir or --database-url)"
        )


def _pinned(value: str) -> bytes:
    path = Path(value)
    text = path.read_text() if len(value) != 64 and path.is_file() else value
    try:
        return parse_public_key(text)
    except ValueError as e:
        raise click.BadParameter(f"{value}: {e}", param_hint="--public-key") from None


@click.group()
def audit() -> None:
    """The audit trail: verify it, pin its public key, export, tail and prune it."""


@audit.command()
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="HEX|FILE",
    help="Trust only this Ed25519 public key (64 hex digits, or a file with them or a PEM key), as "
    "`rolehop audit public-key` printed it; repeat for several. Without it, the keys stored beside the "
    "trail are used, which whoever can rewrite the store could replace.",
)
@with_store_options
def verify(public_keys: tuple[str, ...], database_url: str | None, data_dir: Path | None) -> None:
    """Prove that no event was altered, removed or reordered (exit 0), or name the one that was (exit 1)."""
    from rolehop.services.admin.audit import verify as check

    pinned = [_pinned(v) for v in public_keys]
    with _store(database_url, data_dir) as store:
        result = check(store, pinned=pinned)
    if result.chains:
        from rolehop.cli.user.ui import print_table

        rows = [
            [
                c.chain_id[:12],
                c.node,
                str(c.events),
                "-" if c.first_seq is None else f"{c.first_seq}..{c.last_seq}",
                str(c.digests),
                str(c.unsigned),
                str(c.pruned_through or "-"),
            ]
            for c in result.chains
        ]
        print_table(None, ["chain", "node", "events", "seq", "digests", "unsigned", "pruned through"], rows)
    click.echo(
        f"{len(result.chains)} chain(s), {result.events} event(s), {result.digests} signed digest(s); "
        f"{result.unsigned} event(s) not yet covered by a signed digest."
    )
    keys = ", ".join(result.key_ids) or "none"
    if result.pinned:
        click.echo(f"Digests verified with the pinned public key(s): {keys}.")
    else:
        click.echo(
            f"Digests verified with the public key(s) read from the store being verified ({keys}): pin "
            "them (`rolehop audit public-key`, then `verify --public-key HEX`) so that a rewritten store "
            "cannot bring its own key."
        )
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    if result.ok:
        click.echo("OK: no event was altered, removed or reordered.")
        return
    for finding in result.findings:
        click.echo(f"TAMPERED {finding}")
    if result.more_findings:
        click.echo(f"… and {result.more_findings} more finding(s).")
    click.echo(f"FAILED: the audit trail was tampered with ({len(result.findings)} finding(s)).")
    sys.exit(1)


@audit.command(name="public-key")
@click.option("--hex", "hex_only", is_flag=True, help="Only the keys' hex forms, one a line.")
@with_store_options
def public_key(hex_only: bool, database_url: str | None, data_dir: Path | None) -> None:
    """Print the public half of the trail's signing key(s), to pin with `verify --public-key`."""
    from rolehop.services.admin.audit import public_keys

    with _store(database_url, data_dir) as store:
        keys = public_keys(store)
    if not keys:
        raise click.ClickException(
            "no signing key yet: one is made when the trail signs its first digest (within a minute of "
            "the first event a server records)"
        )
    for key in keys:
        if hex_only:
            click.echo(key.public_key.hex())
            continue
        click.echo(f"Key {key.key_id} (Ed25519, created {key.created_at.isoformat()})")
        click.echo(f"  hex: {key.public_key.hex()}")
        click.echo(public_pem(key.public_key), nl=False)


def _reader_gone() -> None:
    """The reader of standard output went away (`| head`): stop quietly, without the interpreter's
    complaint when it flushes standard output at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _write(out: TextIO, events: list[StoredEvent]) -> None:
    for e in events:
        out.write(e.event.record + "\n")
    out.flush()


@audit.command()
@click.option(
    "--since",
    metavar="TIME",
    callback=_time_option,
    help=f"The oldest event's time: {TIME_HELP} [default: the oldest kept].",
)
@click.option(
    "--until",
    metavar="TIME",
    callback=_time_option,
    help="The newest event's time, as --since [default: now].",
)
@click.option("--format", "output_format", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="A file [default: stdout]."
)
@click.option(
    "--account", "accounts", multiple=True, metavar="ACCOUNT-ID", help="Only this account's events."
)
@with_store_options
def export(
    since: datetime | None,
    until: datetime | None,
    output_format: str,
    output: Path | None,
    accounts: tuple[str, ...],
    database_url: str | None,
    data_dir: Path | None,
) -> None:
    """Print the stored CloudTrail records, one JSON object a line, oldest first."""
    from rolehop.services.admin.audit import export as stored

    count = 0
    with _store(database_url, data_dir) as store:
        try:
            out = output.open("w") if output is not None else sys.stdout
        except OSError as e:
            raise click.ClickException(f"{output}: {e.strerror}") from None
        try:
            batch: list[StoredEvent] = []
            for event in stored(store, since=since, until=until, account_ids=accounts or None):
                batch.append(event)
                if len(batch) >= 1_000:
                    _write(out, batch)
                    count += len(batch)
                    batch = []
            _write(out, batch)
            count += len(batch)
        except BrokenPipeError:
            _reader_gone()
            return
        finally:
            if output is not None:
                out.close()
    if output is not None:
        click.echo(f"Exported {count} event(s) to {output}.", err=True)


@audit.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until interrupted (Ctrl-C).")
@click.option(
    "--since",
    metavar="TIME",
    callback=_time_option,
    help=f"Start at this time: {TIME_HELP} [default: the newest --lines].",
)
@click.option(
    "--lines", "-n", default=10, show_default=True, type=click.IntRange(0), help="How many to start with."
)
@click.option(
    "--account", "accounts", multiple=True, metavar="ACCOUNT-ID", help="Only this account's events."
)
@with_store_options
def tail(
    follow: bool,
    since: datetime | None,
    lines: int,
    accounts: tuple[str, ...],
    database_url: str | None,
    data_dir: Path | None,
) -> None:
    """Print the newest CloudTrail records as JSON lines, oldest first; --follow for new ones as they come."""
    from rolehop.core.errors import ServiceUnavailable
    from rolehop.services.admin.audit import Tail

    with _store(database_url, data_dir) as store:
        follower = Tail(store, account_ids=accounts or None)
        try:
            _write(sys.stdout, follower.start(last=lines, since=since))
            unreachable = False
            while follow:
                time.sleep(FOLLOW_SECONDS)
                try:
                    _write(sys.stdout, follower.poll())
                    unreachable = False
                except ServiceUnavailable:
                    if not unreachable:
                        click.echo("the store is out of reach; still trying", err=True)
                    unreachable = True
        except KeyboardInterrupt:
            return
        except BrokenPipeError:
            _reader_gone()
            return


@audit.command()
@click.option(
    "--retention-days",
    type=int,
    metavar="DAYS",
    help="Keep this many days of events [default: as `serve`: ROLEHOP_AUDIT_RETENTION_DAYS or 90].",
)
@with_store_options
@with_master_key_option
def prune(
    retention_days: int | None,
    database_url: str | None,
    data_dir: Path | None,
    master_key_command: str | None,
) -> None:
    """Apply the retention period now: delete whole signed ranges of events older than it (recorded)."""
    from rolehop.services.admin.audit import ForeignKeyRing
    from rolehop.services.admin.audit import prune as apply_retention

    config = store_config(
        database_url=database_url,
        data_dir=data_dir,
        master_key_command=master_key_command,
        audit_retention_days=retention_days,
    )
    _exists(config)
    with opened_runtime(config) as rt:
        try:
            done = apply_retention(rt)
        except ForeignKeyRing as e:
            raise click.ClickException(str(e)) from None
        finally:
            rt.trail.close()
    days = config.audit_retention_days
    if not done:
        click.echo(f"Nothing to prune: no signed range of events is older than {days} days.")
        return
    for step in done:
        click.echo(
            f"Pruned {step.events_removed} event(s) of chain {step.chain_id} through seq {step.through_seq} "
            f"(and {step.digests_removed} digest(s) before it); recorded as event {step.event_id}."
        )
