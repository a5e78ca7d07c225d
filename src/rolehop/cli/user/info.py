"""`rolehop whoami`, `rolehop roles` and `rolehop logout`."""

from __future__ import annotations

import json
import os

import click

from rolehop.cli.user.broker import Broker, expires_in
from rolehop.cli.user.cache import TempCredentials, iso, parse_iso
from rolehop.cli.user.context import user_context
from rolehop.cli.user.errors import UserError
from rolehop.cli.user.profiles import MainProfile, main_profile, resolve
from rolehop.cli.user.remote import Keys, Remote
from rolehop.cli.user.state import RoleInfo, State
from rolehop.cli.user.ui import print_table

main_option = click.option("--profile", "main", help="Your main profile [default: the one configured last].")


def _line(label: str, value: str) -> None:
    click.echo(f"  {label:<9} {value}")


def _from_environment() -> bool:
    return bool(
        os.environ.get("AWS_ACCESS_KEY_ID")
        and os.environ.get("AWS_SECRET_ACCESS_KEY")
        and os.environ.get("AWS_ENDPOINT_URL")
    )


@click.command()
@click.argument("profile", required=False)
def whoami(profile: str | None) -> None:
    """Who the credentials of this shell, of your main profile, or of PROFILE are (no MFA prompt)."""
    ctx = user_context()
    state = State()
    if profile is None and _from_environment():
        endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        keys = Keys(
            os.environ["AWS_ACCESS_KEY_ID"],
            os.environ["AWS_SECRET_ACCESS_KEY"],
            os.environ.get("AWS_SESSION_TOKEN"),
        )
        ident = Remote(MainProfile("environment", endpoint, region, None, None)).caller_identity(keys)
        click.echo(ident["Arn"])
        _line("account", str(ident["Account"]))
        source = os.environ.get("ROLEHOP_PROFILE")
        _line("from", f"the environment{f' (rolehop assume {source})' if source else ''}, at {endpoint}")
        expiration = os.environ.get("AWS_CREDENTIAL_EXPIRATION")
        if expiration:
            creds = TempCredentials(keys.access_key_id, "", "", parse_iso(expiration))
            _line("expires", f"{expiration} ({expires_in(creds, ctx.now())} left)")
        return
    target = resolve(profile or state.main_name(None), state)
    broker = Broker(ctx)
    main = target.main
    if target.role_arn is not None:
        cached = broker.cached_role(target)
        if cached is None:
            raise UserError(
                f"{target.profile} ({target.role_arn}) has no live credentials here",
                f"'rolehop assume {target.profile}' gets them",
            )
        ident = Remote(main).caller_identity(Keys.of(cached))
        click.echo(ident["Arn"])
        _line("account", _account(ident["Account"], target.role))
        _line("profile", f"{target.profile} at {main.endpoint}")
        _line("expires", f"{iso(cached.expiration)} ({expires_in(cached, ctx.now())} left)")
        return
    remote = Remote(main)
    ident = remote.caller_identity(remote.source_keys())
    click.echo(ident["Arn"])
    _line("account", str(ident["Account"]))
    _line("profile", f"{main.name} at {main.endpoint}")
    if not target.mfa_serial:
        _line("MFA", "no device in the profile (rolehop configure finds it once you have one)")
        return
    session = broker.cached_mfa_session(main, target.mfa_serial)
    if session is None:
        _line("MFA", f"{target.mfa_serial}; no MFA session: the next 'rolehop assume' asks for a code")
    else:
        _line("MFA", f"session until {iso(session.expiration)} ({expires_in(session, ctx.now())} left)")


def _account(account_id: str, role: RoleInfo | None) -> str:
    return f"{account_id} ({role.display_name})" if role is not None else account_id


@click.command()
@main_option
@click.option("--json", "as_json", is_flag=True, help="Print the server's JSON instead of a table.")
def roles(main: str | None, as_json: bool) -> None:
    """The roles you may assume, in every account, as the server's policy engine decides."""
    state = State()
    profile = main_profile(state.main_name(main), state)
    remote = Remote(profile)
    listed = remote.assumable_roles(remote.source_keys())
    if as_json:
        click.echo(json.dumps({"Roles": listed}, indent=2))
        return
    record = state.mains.get(profile.name)
    by_arn = {role.role_arn: name for name, role in (record.roles if record else {}).items()}
    rows = []
    for item in listed:
        role = RoleInfo.from_api(item)
        rows.append(
            [
                by_arn.get(role.role_arn, "-"),
                role.display_name,
                role.account_id,
                role.role_name,
                f"{role.max_session_duration // 3600} h"
                if role.max_session_duration % 3600 == 0
                else f"{role.max_session_duration // 60} min",
            ]
        )
    if not rows:
        click.echo(f"You may not assume any role (profile {profile.name}).")
        return
    print_table(None, ["Profile", "Account", "Account ID", "Role", "Max session"], rows)
    if any(row[0] == "-" for row in rows):
        click.echo("Roles without a profile: 'rolehop configure' writes theirs.")


@click.command()
@main_option
def logout(main: str | None) -> None:
    """Forget the cached MFA session and role credentials (all of them, or those of --profile)."""
    dropped = Broker(user_context()).forget(main)
    whose = f" of profile {main}" if main else ""
    click.echo(
        f"Dropped {dropped} cached session{'s' if dropped != 1 else ''}{whose}; the next 'rolehop assume' "
        "asks for an MFA code. (Credentials already handed out stay valid until they expire.)"
    )
