"""`rolehop console PROFILE`: the web console as the role, through the federation endpoint, with
AWS's documented protocol (IAM User Guide, "Enable custom identity broker access to the AWS
console"): GET federation?Action=getSigninToken&Session={"sessionId","sessionKey","sessionToken"}
answers {"SigninToken"}; federation?Action=login&Issuer=…&Destination=…&SigninToken=… signs the
browser in (the token is good for 15 minutes). rolehop's console shares the API's endpoint."""

from __future__ import annotations

import json
import urllib.parse

import click

from rolehop.cli.user.broker import MFA_SESSION_SECONDS, Broker
from rolehop.cli.user.cache import TempCredentials
from rolehop.cli.user.context import user_context
from rolehop.cli.user.errors import UserError
from rolehop.cli.user.profiles import resolve
from rolehop.cli.user.remote import Remote
from rolehop.cli.user.state import State

FEDERATION = "/federation"


def signin_token(remote: Remote, creds: TempCredentials, session_duration: int | None) -> str:
    session = json.dumps(
        {
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
        }
    )
    query: dict[str, str] = {"Action": "getSigninToken", "Session": session}
    if session_duration:
        query["SessionDuration"] = str(session_duration)
    status, body = remote.get(f"{remote.endpoint}{FEDERATION}?{urllib.parse.urlencode(query)}")
    if status == 404:
        raise UserError(
            f"{remote.endpoint} has no console federation endpoint (GET {FEDERATION}: 404)",
            "this rolehop server does not serve the console; ask its administrator",
        )
    try:
        token = json.loads(body)["SigninToken"]
    except (ValueError, KeyError, TypeError):
        detail = body[:200].decode("utf-8", errors="replace").strip() or f"HTTP {status}"
        raise UserError(
            f"the federation endpoint refused the role's credentials: {detail}", "try again with --refresh"
        ) from None
    return str(token)


# The AWS console's Switch Role colours; a profile keeps the same one every time.
PALETTE = ("f2b0a9", "fbc8aa", "efda95", "b7ca9d", "83d4e8")


def color_for(profile: str) -> str:
    return PALETTE[sum(profile.encode()) % len(PALETTE)]


def login_url(endpoint: str, token: str, destination: str, *, display_name: str = "", color: str = "") -> str:
    target = (
        destination
        if destination.startswith(("http://", "https://"))
        else endpoint + "/" + destination.lstrip("/")
    )
    fields = {"Action": "login", "Issuer": endpoint + "/", "Destination": target, "SigninToken": token}
    if display_name:  # rolehop's extension: the header shows the session as Switch Role would
        fields |= {"DisplayName": display_name, "Color": color}
    query = urllib.parse.urlencode(fields)
    return f"{endpoint}{FEDERATION}?{query}"


@click.command()
@click.argument("profile")
@click.option(
    "--print", "print_only", is_flag=True, help="Print the sign-in URL instead of opening a browser."
)
@click.option("--destination", default="/", show_default=True, help="Console page to land on.")
@click.option(
    "--duration",
    type=click.IntRange(900, 43200),
    help="Console session length in seconds (SessionDuration) [default: as long as the credentials].",
)
@click.option(
    "--color", help="Header colour, a Switch Role palette hex such as 83d4e8 [default: one per profile]."
)
def console(
    profile: str, print_only: bool, destination: str, duration: int | None, color: str | None
) -> None:
    """Open the web console as the role of PROFILE (one MFA prompt per MFA session, as assume)."""
    ctx = user_context()
    target = resolve(profile, State())
    if target.role_arn is None:
        raise UserError(
            f"profile {profile} is not a role profile",
            "the console from the command line takes a role ('rolehop roles' lists yours)",
        )
    creds = Broker(ctx).credentials(target, may_prompt=True, refresh=True, mfa_duration=MFA_SESSION_SECONDS)
    remote = Remote(target.main)
    url = login_url(
        target.main.endpoint,
        signin_token(remote, creds, duration),
        destination,
        display_name=profile,
        color=color or color_for(profile),
    )
    if print_only:
        click.echo(url)
        return
    if not ctx.open_browser(url):
        click.echo(url)
        click.echo("rolehop: no browser could be opened; open the URL above within 15 minutes", err=True)
        return
    click.echo(
        f"rolehop: opened the console as {profile} (the sign-in link is valid for 15 minutes)", err=True
    )
