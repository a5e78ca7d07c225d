"""The AWS CLI's profiles, as rolehop reads and names them.

Naming rule (docs/cli.md): a role profile is `<account>-<role>`, both lower-cased with every run of
characters other than letters and digits turned into one `-`; `<role>` is the last word of the role
name (`ak-main-account-admin` -> `admin`), so the Aster Key example gives production-admin,
develop-readonly… When two roles of one account share a last word, or a name would equal the main
profile's, those roles use their whole name (`production-ak-main-account-admin`); if that still
collides (two accounts with the same name), the account ID is added after the account name.
"""

from __future__ import annotations

import configparser
import difflib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from rolehop.cli.user.errors import UserError
from rolehop.cli.user.state import RoleInfo, State

DEFAULT_REGION = "us-east-1"
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


def config_path() -> Path:
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def credentials_path() -> Path:
    return Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def config_section(profile: str) -> str:
    """The section of ~/.aws/config that holds `profile` (botocore: `[default]`, `[profile NAME]`)."""
    return "default" if profile == "default" else f"profile {profile}"


def _parse(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as e:
        first = str(e).splitlines()[0]
        raise UserError(f"{path} cannot be read: {first}", "fix the file and run the command again") from e
    return parser


def read_config() -> dict[str, dict[str, str]]:
    """Profiles of ~/.aws/config by name, as botocore sees them."""
    parser = _parse(config_path())
    profiles: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        if section == "default":
            profiles.setdefault("default", {}).update(parser.items(section))
        elif section.startswith("profile ") and section[8:].strip():
            profiles[section[8:].strip()] = dict(parser.items(section))
    return profiles


def read_credentials() -> dict[str, dict[str, str]]:
    parser = _parse(credentials_path())
    return {section: dict(parser.items(section)) for section in parser.sections()}


def slug(text: str) -> str:
    return "-".join(w.lower() for w in _NOT_WORD.split(text) if w) or "x"


def short_role_name(role_name: str) -> str:
    words = [w for w in _NOT_WORD.split(role_name) if w]
    return words[-1].lower() if words else slug(role_name)


def profile_names(roles: Iterable[RoleInfo], main: str, *, long_names: bool = False) -> dict[str, RoleInfo]:
    """Profile name -> role, by the naming rule above; deterministic for a given set of roles."""
    roles = sorted(roles, key=lambda r: (r.account_name.lower(), r.account_id, r.role_name.lower()))
    rules: list[Callable[[RoleInfo], str]] = [
        lambda r: f"{slug(r.account_name)}-{slug(r.role_name)}",
        lambda r: f"{slug(r.account_name)}-{r.account_id}-{slug(r.role_name)}",
    ]
    if not long_names:
        rules.insert(0, lambda r: f"{slug(r.account_name)}-{short_role_name(r.role_name)}")
    names = {r.role_arn: rules[0](r) for r in roles}
    for rule in rules[1:]:
        counts = Counter(names.values())
        for r in roles:
            if counts[names[r.role_arn]] > 1 or names[r.role_arn] == main:
                names[r.role_arn] = rule(r)
    return {names[r.role_arn]: r for r in roles}


@dataclass(frozen=True)
class MainProfile:
    """The user's own profile: long-term keys in ~/.aws/credentials, its MFA device, the endpoint."""

    name: str
    endpoint: str
    region: str
    mfa_serial: str | None
    user_name: str | None  # known when rolehop configured it


@dataclass(frozen=True)
class Target:
    """What `rolehop assume PROFILE` gets credentials for: a role, or (role_arn None) the main
    profile's own MFA session."""

    profile: str
    main: MainProfile
    role_arn: str | None
    mfa_serial: str | None
    session_name: str
    duration: int | None = None
    external_id: str | None = None
    role: RoleInfo | None = None  # what rolehop knows of it (account name, display name)


def _unknown_profile(name: str, known: Iterable[str]) -> UserError:
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return UserError(
        f"no profile named {name!r} in {config_path()}",
        hint + "'rolehop roles' lists your roles and 'rolehop configure' writes their profiles",
    )


def _endpoint(*candidates: str | None) -> str | None:
    for value in (*candidates, os.environ.get("AWS_ENDPOINT_URL_STS"), os.environ.get("AWS_ENDPOINT_URL")):
        if value:
            return value.rstrip("/")
    return None


def main_profile(
    name: str,
    state: State,
    config: dict[str, dict[str, str]] | None = None,
    *,
    endpoint_hint: str | None = None,
) -> MainProfile:
    """The profile with the user's own key: in ~/.aws/config, ~/.aws/credentials or rolehop's record."""
    config = read_config() if config is None else config
    section = config.get(name)
    record = state.mains.get(name)
    if section is None and record is None and name not in read_credentials():
        raise _unknown_profile(name, config)
    section = section or {}
    endpoint = _endpoint(endpoint_hint, section.get("endpoint_url"), record.endpoint if record else None)
    if endpoint is None:
        raise UserError(
            f"profile {name!r} has no endpoint_url",
            "run 'rolehop configure --endpoint URL' to point it at your rolehop server",
        )
    region = section.get("region") or (record.region if record else None)
    return MainProfile(
        name,
        endpoint,
        region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        section.get("mfa_serial") or (record.mfa_serial if record else None),
        record.user_name if record else None,
    )


def resolve(profile: str, state: State) -> Target:
    """A role profile (role_arn + source_profile, or one rolehop wrote in credential_process style),
    or a main profile itself."""
    config = read_config()
    section = config.get(profile)
    known = state.role_of(profile)
    if section is None and known is None and profile not in state.mains:
        raise _unknown_profile(profile, config)
    section = section or {}
    role: RoleInfo | None = known[1] if known else None
    if "role_arn" in section:
        source = section.get("source_profile")
        if not source:
            raise UserError(
                f"profile {profile!r} has role_arn but no source_profile",
                "rolehop assumes roles from your own profile: add source_profile = <your main profile>",
            )
        role_arn: str | None = section["role_arn"]
        if role is not None and role.role_arn != role_arn:
            role = None
    elif known is not None:
        source, role_arn = known[0], known[1].role_arn
    else:
        source, role_arn = profile, None  # a main profile: its own MFA session
    if role_arn is not None and "role_arn" in config.get(source, {}):
        raise UserError(
            f"source_profile {source!r} of {profile!r} is itself a role profile",
            "set source_profile to the profile with your own access key",
        )
    main = main_profile(source, state, config, endpoint_hint=section.get("endpoint_url"))
    if section.get("region"):
        main = replace(main, region=section["region"])
    duration = section.get("duration_seconds")
    return Target(
        profile,
        main,
        role_arn,
        section.get("mfa_serial") or main.mfa_serial,
        section.get("role_session_name") or main.user_name or _local_user(),
        int(duration) if duration and duration.isdigit() else None,
        section.get("external_id"),
        role,
    )


def _local_user() -> str:
    import getpass

    try:
        name = re.sub(r"[^\w+=,.@-]", "-", getpass.getuser())
    except (KeyError, OSError):
        name = ""
    return name if len(name) >= 2 else "rolehop"
