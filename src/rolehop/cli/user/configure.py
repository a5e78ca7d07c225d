"""`rolehop configure`: the user's main profile and one profile per role the user may assume.

Files: ~/.aws/credentials gets the main profile's access key (0600); ~/.aws/config gets the main
profile (region, endpoint_url, mfa_serial) and the role profiles (role_arn, source_profile,
role_session_name, mfa_serial, region, endpoint_url), so `aws --profile production-admin` and boto3
work without rolehop. Only keys rolehop manages are touched; other profiles, keys and comments stay.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from rolehop.cli.user.broker import Broker
from rolehop.cli.user.context import UserContext, user_context
from rolehop.cli.user.errors import UserError
from rolehop.cli.user.fs import private_dir, write_private
from rolehop.cli.user.inifile import IniDocument
from rolehop.cli.user.profiles import (
    DEFAULT_REGION,
    MainProfile,
    config_path,
    config_section,
    credentials_path,
    profile_names,
    read_config,
    read_credentials,
)
from rolehop.cli.user.remote import Keys, Remote, RemoteError
from rolehop.cli.user.state import DEFAULT_MAIN, MainRecord, RoleInfo, State
from rolehop.cli.user.ui import print_table

ROLE_KEYS = ("role_arn", "source_profile", "role_session_name", "mfa_serial", "credential_process")


def _note(text: str) -> None:
    click.echo(f"rolehop: {text}", err=True)


def _read_keys(ctx: UserContext, name: str, user: str) -> Keys:
    env_key, env_secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if env_key and env_secret and not os.environ.get("AWS_SESSION_TOKEN"):
        return Keys(env_key.strip(), env_secret.strip())
    if env_key and os.environ.get("AWS_SESSION_TOKEN"):
        _note("ignoring the temporary credentials in the environment (AWS_SESSION_TOKEN is set)")
    stored = read_credentials().get(name, {})
    if stored.get("aws_access_key_id") and stored.get("aws_secret_access_key"):
        return Keys(stored["aws_access_key_id"], stored["aws_secret_access_key"])
    key_id = ctx.key_prompter(f"Access key ID of {user}: ")
    secret = ctx.key_prompter(f"Secret access key of {user}: ", secret=True) if key_id else None
    if not key_id or not secret:
        raise UserError(
            f"no access key for {user}",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, type them when asked, or pipe them (two lines)",
        )
    return Keys(key_id, secret)


def _check_identity(remote: Remote, keys: Keys, user: str) -> str:
    try:
        arn = str(remote.caller_identity(keys)["Arn"])
    except RemoteError as e:
        if e.code == "InvalidClientTokenId":
            raise UserError(
                f"{remote.endpoint} does not know the access key {keys.access_key_id}",
                f"check the key (a new one: the console's Security credentials page of {user})",
            ) from e
        if e.code == "SignatureDoesNotMatch":
            raise UserError(
                f"the secret access key does not match key {keys.access_key_id}",
                "check AWS_SECRET_ACCESS_KEY",
            ) from e
        raise
    if ":user/" not in arn:
        raise UserError(
            f"the access key belongs to {arn}, not to an IAM user", f"use {user}'s own access key"
        )
    if arn.rsplit("/", 1)[-1] != user:
        raise UserError(
            f"the access key belongs to {arn}, not to user {user}", f"use {user}'s own access key"
        )
    return arn


def _mfa_serial(remote: Remote, keys: Keys, user: str, given: str | None) -> str | None:
    if given:
        return given
    try:
        serials = remote.mfa_devices(keys, user)
    except RemoteError as e:
        _note(f"cannot list your MFA devices ({e.code}); pass --mfa-serial ARN to use one")
        return None
    if not serials:
        _note(
            "you have no MFA device yet: roles that require MFA will refuse you. Set one up (console: "
            "Security credentials) and run 'rolehop configure' again"
        )
        return None
    return serials[0]


def _self_command(profile: str) -> str:
    """How credential_process runs rolehop: this very executable, by absolute path."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "rolehop" and argv0.exists():
        base = [str(argv0.absolute())]
    else:
        base = [sys.executable, "-m", "rolehop"]
    return shlex.join([*base, "assume", profile, "--json"])


def _write(path: Path, text: str) -> None:
    """Replaces the file atomically, keeping its mode; a symlink (dotfiles) keeps pointing at it."""
    if path.is_symlink():
        path = path.resolve()
    if not path.parent.exists():
        private_dir(path.parent)  # ~/.aws: 0700 when rolehop creates it, as the AWS CLI does
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    write_private(path, text.encode(), mode)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


@click.command()
@click.option("--endpoint", help="URL of the rolehop server [default: as configured before].")
@click.option("--user", "user", help="Your IAM user name [default: as configured before].")
@click.option("--profile", "main", help=f"Name of your main profile [default: {DEFAULT_MAIN}, or as before].")
@click.option("--region", help=f"Region written in the profiles [default: {DEFAULT_REGION}, or as before].")
@click.option("--mfa-serial", help="ARN of your MFA device [default: your first one, from ListMFADevices].")
@click.option(
    "--credential-process",
    "process_style",
    is_flag=True,
    help="Write role profiles that call 'rolehop assume PROFILE --json': one MFA prompt for all tools.",
)
@click.option("--long-names", is_flag=True, help="Name role profiles <account>-<whole role name>.")
def configure(
    endpoint: str | None,
    user: str | None,
    main: str | None,
    region: str | None,
    mfa_serial: str | None,
    process_style: bool,
    long_names: bool,
) -> None:
    """Write ~/.aws profiles for you and for every role you may assume.

    Your access key comes from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, from the main profile when it
    exists, or is asked for (read from stdin when there is no terminal). Run it again whenever your
    roles change: it updates its own profiles in place and leaves every other one alone."""
    ctx = user_context()
    state = State()
    name = main or state.default or DEFAULT_MAIN
    record = state.mains.get(name)
    endpoint = (endpoint or (record.endpoint if record else "")).rstrip("/")
    user = user or (record.user_name if record else None)
    if not endpoint or not user:
        raise UserError(
            "--endpoint and --user are needed the first time",
            "e.g. rolehop configure --endpoint https://rolehop.example.com --user alice",
        )
    config = read_config()
    region = (
        region or (record.region if record else None) or config.get(name, {}).get("region") or DEFAULT_REGION
    )
    keys = _read_keys(ctx, name, user)
    stored = read_credentials().get(name, {})
    if (
        (config.get(name) is not None or stored)
        and state.owner_of(name) != name
        and (stored.get("aws_access_key_id") not in (None, keys.access_key_id))
    ):
        raise UserError(
            f"profile {name!r} already exists with another access key and rolehop did not write it",
            "choose another name with --profile",
        )
    remote = Remote(MainProfile(name, endpoint, region, None, user))
    user_arn = _check_identity(remote, keys, user)
    serial = _mfa_serial(remote, keys, user, mfa_serial)
    roles = [RoleInfo.from_api(item) for item in remote.assumable_roles(keys)]
    named = profile_names(roles, name, long_names=long_names)

    cred_doc = IniDocument(_read(credentials_path()))
    cred_doc.update(
        name,
        {"aws_access_key_id": keys.access_key_id, "aws_secret_access_key": keys.secret_access_key},
        remove=("aws_session_token",),
    )
    doc = IniDocument(_read(config_path()))
    main_values = {"region": region, "endpoint_url": endpoint}
    if serial:
        main_values["mfa_serial"] = serial
    doc.update(config_section(name), main_values, remove=() if serial else ("mfa_serial",))
    written: dict[str, RoleInfo] = {}
    skipped: list[tuple[str, str | None]] = []
    for profile, role in named.items():
        if doc.has(config_section(profile)) and state.owner_of(profile) != name:
            skipped.append((profile, state.owner_of(profile)))
            continue
        if process_style:
            values = {
                "credential_process": _self_command(profile),
                "region": region,
                "endpoint_url": endpoint,
            }
        else:
            values = {
                "role_arn": role.role_arn,
                "source_profile": name,
                "role_session_name": user,
                "region": region,
                "endpoint_url": endpoint,
            }
            if serial:
                values["mfa_serial"] = serial
        doc.update(config_section(profile), values, remove=ROLE_KEYS)
        written[profile] = role
    removed = [p for p in (record.roles if record else {}) if p not in written and p not in named]
    for profile in removed:
        doc.remove(config_section(profile))
    _write(credentials_path(), cred_doc.text())
    _write(config_path(), doc.text())

    changed = (
        record is None
        or (record.user_arn, record.endpoint) != (user_arn, endpoint)
        or (stored.get("aws_access_key_id") != keys.access_key_id)
    )
    state.mains[name] = MainRecord(
        endpoint, region, user_arn, serial, "process" if process_style else "standard", written
    )
    state.default = name
    state.save()
    if changed:
        Broker(ctx).forget(name)
    _report(name, user_arn, serial, written, skipped, removed)


def _report(
    name: str,
    user_arn: str,
    serial: str | None,
    written: dict[str, RoleInfo],
    skipped: list[tuple[str, str | None]],
    removed: list[str],
) -> None:
    click.echo(f"Profile {name}: {user_arn}" + (f", MFA device {serial}" if serial else ", no MFA device"))
    rows = [[p, f"{r.account_name} ({r.account_id})", r.role_name] for p, r in written.items()]
    if rows:
        print_table(None, ["Profile", "Account", "Role"], rows)
    else:
        click.echo("You may not assume any role yet.")
    for profile, owner in skipped:
        whose = f"it belongs to main profile {owner}" if owner else "rolehop did not write it"
        _note(f"left profile {profile!r} alone: {whose} (--long-names gives other names)")
    if removed:
        click.echo("Removed profiles of roles you may no longer assume: " + ", ".join(removed))
    if written:
        first = next(iter(written))
        click.echo(
            f'\nNext: eval "$(rolehop assume {first})"   or   aws sts get-caller-identity --profile {first}'
        )
