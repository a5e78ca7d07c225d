"""`rolehop assume PROFILE`: role credentials as shell exports, for a command (--exec), or as
credential_process JSON (--json); and `rolehop login`, which only starts the MFA session."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import replace

import click

from rolehop.cli.user.broker import MFA_SESSION_SECONDS, Broker, expires_in
from rolehop.cli.user.cache import TempCredentials, iso
from rolehop.cli.user.context import user_context
from rolehop.cli.user.errors import UserError
from rolehop.cli.user.profiles import Target, main_profile, resolve
from rolehop.cli.user.state import State

# what a previous profile may have left in the environment and would compete with the new credentials
STALE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN")

mfa_session_option = click.option(
    "--mfa-session-duration",
    type=click.IntRange(900, 129600),
    default=MFA_SESSION_SECONDS,
    envvar="ROLEHOP_MFA_SESSION_DURATION",
    show_default=True,
    help="Length in seconds of a new MFA session (GetSessionToken's DurationSeconds).",
)


class CommandFailed(UserError):
    exit_code = 127


def credential_env(target: Target, creds: TempCredentials) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_SESSION_TOKEN": creds.session_token,
        "AWS_CREDENTIAL_EXPIRATION": iso(creds.expiration),
        "AWS_REGION": target.main.region,
        "AWS_DEFAULT_REGION": target.main.region,
        "AWS_ENDPOINT_URL": target.main.endpoint,
        "ROLEHOP_PROFILE": target.profile,
    }


def shell_exports(env: dict[str, str]) -> str:
    lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    lines.append("unset " + " ".join(STALE))
    return "\n".join(lines)


def run_with(env: dict[str, str], command: Sequence[str]) -> int:
    """Runs `command` with `env` added to this environment; its exit status (128+N for signal N)."""
    child_env = {k: v for k, v in os.environ.items() if k not in STALE}
    child_env.update(env)
    try:
        process = subprocess.Popen(list(command), env=child_env)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as e:
        raise CommandFailed(
            f"cannot run {command[0]!r}: {e.strerror or e}", "check the command after --"
        ) from e
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the child's to handle
    try:
        code = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - code if code < 0 else code


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("profile")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--exec", "run", is_flag=True, help="Run COMMAND (after --) with the credentials in its environment."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print credential_process JSON; never asks for a code unless stdout is a terminal.",
)
@click.option(
    "--print", "force_print", is_flag=True, help="Print the exports even when stdout is a terminal."
)
@click.option(
    "--duration",
    type=click.IntRange(900, 43200),
    help="Role session length in seconds [default: the profile's duration_seconds, else 3600].",
)
@click.option("--refresh", is_flag=True, help="Assume the role again although cached credentials are valid.")
@mfa_session_option
def assume(
    profile: str,
    command: tuple[str, ...],
    run: bool,
    as_json: bool,
    force_print: bool,
    duration: int | None,
    refresh: bool,
    mfa_session_duration: int,
) -> None:
    """Credentials for a role PROFILE, asking for an MFA code once per MFA session.

    \b
      eval "$(rolehop assume production-admin)"       # this shell becomes the role
      rolehop assume production-admin --exec -- aws s3 ls
      credential_process = rolehop assume production-admin --json
    """
    ctx = user_context()
    if as_json and (run or command):
        raise click.UsageError("--json and --exec do not go together")
    target = resolve(profile, State())
    if duration:
        target = replace(target, duration=duration)
    may_prompt = not as_json or ctx.stdout_is_terminal()
    creds = Broker(ctx).credentials(
        target, may_prompt=may_prompt, refresh=refresh, mfa_duration=mfa_session_duration
    )
    env = credential_env(target, creds)
    if as_json:
        click.echo(json.dumps(creds.process_json()))
    elif run or command:
        argv = list(command) or [os.environ.get("SHELL") or "/bin/sh"]
        if not command:
            click.echo(
                f"rolehop: starting {argv[0]} as {profile} (exit it to drop the credentials)", err=True
            )
        raise SystemExit(run_with(env, argv))
    elif ctx.stdout_is_terminal() and not force_print:
        left = expires_in(creds, ctx.now())
        click.echo(
            f"rolehop: credentials for {profile} are ready ({left} left) and not shown here; load them with\n"
            f'  eval "$(rolehop assume {profile})"\n'
            f"or run a command with 'rolehop assume {profile} --exec -- COMMAND' (--print shows them)",
            err=True,
        )
    else:
        click.echo(shell_exports(env))


@click.command()
@click.option("--profile", "main", help="Your main profile [default: the one configured last].")
@mfa_session_option
def login(main: str | None, mfa_session_duration: int) -> None:
    """Start the MFA session that every role profile then uses (asks for a code if there is none).

    Run it in a terminal when credential_process profiles say the MFA session has expired."""
    ctx = user_context()
    state = State()
    profile = main_profile(state.main_name(main), state)
    if not profile.mfa_serial:
        raise UserError(
            f"profile {profile.name} has no mfa_serial",
            "set up an MFA device, then run 'rolehop configure' again",
        )
    broker = Broker(ctx)
    creds = broker.mfa_session(profile, profile.mfa_serial, may_prompt=True, duration=mfa_session_duration)
    verb = "started" if broker.session_tokens else "already running"
    click.echo(
        f"MFA session of profile {profile.name} {verb}: valid until {iso(creds.expiration)} "
        f"({expires_in(creds, ctx.now())} left)",
        err=True,
    )
