"""Settings for the server and the store commands, and the one place that decides where each comes
from: a flag on the command line, else its environment variable, else the default.
Secrets are wrapped so they never print."""

from __future__ import annotations

import math
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from rolehop.core.keyring import KeyRing, key_line, keyring_from_text
from rolehop.logs import LOG_FORMATS, LogFormat

DEFAULT_PORT = 4640
DEFAULT_DATA_DIR = Path(".rolehop")
DEV_ACCOUNT_ID = "123456789012"
ORG_ACCOUNT_ID = "777764040422"  # the access guide's management account (AK)
DEFAULT_BODY_TIMEOUT = 30.0  # seconds to receive a request's body, once its headers are in
# requests per second per principal, and the burst above it (a source address gets four times both:
# services.pipeline.request_rate); generous, a guard against floods; off in dev mode unless asked
DEFAULT_RATE_LIMIT = 50.0

# environment variables: the first six stand in for --database-url, --data-dir,
# --forwarded-allow-ips, --body-timeout, --rate-limit and --rate-burst; the others have no flag (a
# secret on a command line is visible to every user of the machine)
DATABASE_URL_ENV = "ROLEHOP_DATABASE_URL"
DATA_DIR_ENV = "ROLEHOP_DATA_DIR"
FORWARDED_ALLOW_IPS_ENV = "ROLEHOP_FORWARDED_ALLOW_IPS"
BODY_TIMEOUT_ENV = "ROLEHOP_BODY_TIMEOUT"
RATE_LIMIT_ENV = "ROLEHOP_RATE_LIMIT"
RATE_BURST_ENV = "ROLEHOP_RATE_BURST"
METRICS_ENV = "ROLEHOP_METRICS"  # "off" (or false, 0, no) stands in for --no-metrics
LOG_FORMAT_ENV = "ROLEHOP_LOG_FORMAT"
AUDIT_TRAIL_ENV = "ROLEHOP_AUDIT_TRAIL"  # on|off: record every call in the audit trail
AUDIT_RETENTION_ENV = "ROLEHOP_AUDIT_RETENTION_DAYS"
AUDIT_ORG_VIEW_ENV = "ROLEHOP_AUDIT_ORG_VIEW"  # on: the management account sees every account's events
DEFAULT_AUDIT_RETENTION_DAYS = 90  # CloudTrail's event history
ROOT_KEY_ID_ENV = "ROLEHOP_ROOT_ACCESS_KEY_ID"
ROOT_SECRET_ENV = "ROLEHOP_ROOT_SECRET_ACCESS_KEY"
MASTER_KEY_ENV = "ROLEHOP_MASTER_KEY"
MASTER_KEY_COMMAND_ENV = "ROLEHOP_MASTER_KEY_COMMAND"  # a command, not a secret: it has a flag too
MASTER_KEY_COMMAND_TIMEOUT = 30.0  # seconds for the command to print the ring (a vault, a KMS)

# What opening the store does to a schema older than this rolehop's (rolehop.store.revisions):
# "always" upgrades it, "when-empty" creates the schema in an empty store only, "never" refuses it.
MigratePolicy = Literal["always", "when-empty", "never"]

Network = IPv4Network | IPv6Network


class ConfigError(ValueError):
    """A setting's value is not one it can take; the command reports it and does not start."""


class Secret:
    """A string that hides itself in repr, str and logs (starlette's idea)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class ServerConfig:
    """Resolved settings (see `resolve`); nothing here reads the environment."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    dev: bool = False
    account_id: str | None = None
    root_access_key_id: str | None = None
    root_secret: Secret = field(default_factory=lambda: Secret(""))
    master_key: Secret = field(default_factory=lambda: Secret(""))
    master_key_command: tuple[str, ...] = ()  # its standard output is the key ring
    # built by hand (tests), a config migrates its store; `resolve` decides per command
    migrate: MigratePolicy = "always"
    encode_denials: bool = False
    # the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (none by default)
    forwarded_allow_ips: tuple[Network, ...] = ()
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    # requests per second per principal (0: no throttling) and the burst (None: twice the rate)
    rate_limit: float = 0.0
    rate_burst: float | None = None
    metrics: bool = True  # GET /metrics (off: 404)
    log_format: LogFormat = "text"
    audit_trail: bool = True  # every call recorded as a CloudTrail event (off: benchmarks only)
    audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS
    audit_org_view: bool = False  # opt-in: the management account's event history spans the organization

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'rolehop.db'}"

    @property
    def management_account_id(self) -> str:
        if self.account_id:
            return self.account_id
        return DEV_ACCOUNT_ID if self.dev else ORG_ACCOUNT_ID


def resolve(
    *,
    database_url: str | None = None,
    data_dir: Path | None = None,
    dev: bool = False,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    account_id: str | None = None,
    encode_denials: bool = False,
    forwarded_allow_ips: str | None = None,
    body_timeout: float | None = None,
    rate_limit: float | None = None,
    rate_burst: float | None = None,
    metrics: bool | None = None,
    log_format: str | None = None,
    terminal: bool | None = None,
    master_key_command: str | None = None,
    migrate: MigratePolicy = "never",
    audit_trail: bool | None = None,
    audit_retention_days: int | None = None,
    audit_org_view: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServerConfig:
    """The settings of a command: each flag (None when not given) wins over its environment
    variable, which wins over the default. Without either, a dev server gets a fresh temporary
    data directory (it starts empty every time, like an emulator); anything else `.rolehop`.
    `migrate` is the command's policy for a PostgreSQL store; a SQLite store (one node) is always
    brought to the newest schema. Raises ConfigError for a value a setting cannot take."""
    env = os.environ if environ is None else environ
    if forwarded_allow_ips is None:
        forwarded_allow_ips = env.get(FORWARDED_ALLOW_IPS_ENV, "")
    if body_timeout is None:
        body_timeout = _seconds(env.get(BODY_TIMEOUT_ENV) or str(DEFAULT_BODY_TIMEOUT))
    if rate_limit is None:
        default = 0.0 if dev else DEFAULT_RATE_LIMIT
        rate_limit = _number("rate-limit", env[RATE_LIMIT_ENV]) if env.get(RATE_LIMIT_ENV) else default
    if rate_burst is None and env.get(RATE_BURST_ENV):
        rate_burst = _number("rate-burst", env[RATE_BURST_ENV])
    if metrics is None:
        metrics = _switch("metrics", env.get(METRICS_ENV) or "on")
    if log_format is None:
        # a person at a terminal reads text; anything else (systemd, a container runtime) gets JSON lines
        on_terminal = sys.stderr.isatty() if terminal is None else terminal
        log_format = env.get(LOG_FORMAT_ENV) or ("text" if on_terminal else "json")
    if audit_trail is None:
        audit_trail = _switch("audit-trail", env.get(AUDIT_TRAIL_ENV) or "on")
    if audit_org_view is None:
        audit_org_view = _switch("audit-org-view", env.get(AUDIT_ORG_VIEW_ENV) or "off")
    if audit_retention_days is None:
        text = env.get(AUDIT_RETENTION_ENV) or str(DEFAULT_AUDIT_RETENTION_DAYS)
        audit_retention_days = _days("audit-retention-days", text)
    chosen_dir = data_dir or (Path(env[DATA_DIR_ENV]) if env.get(DATA_DIR_ENV) else None)
    if chosen_dir is None:
        chosen_dir = Path(tempfile.mkdtemp(prefix="rolehop-dev-")) if dev else DEFAULT_DATA_DIR
    if master_key_command is None:
        master_key_command = env.get(MASTER_KEY_COMMAND_ENV, "")
    chosen_url = database_url or env.get(DATABASE_URL_ENV) or None
    return ServerConfig(
        host=host,
        port=port,
        data_dir=chosen_dir,
        database_url=chosen_url,
        dev=dev,
        account_id=account_id,
        root_access_key_id=env.get(ROOT_KEY_ID_ENV) or None,
        root_secret=Secret(env.get(ROOT_SECRET_ENV, "")),
        master_key=Secret(env.get(MASTER_KEY_ENV, "")),
        master_key_command=_command(master_key_command),
        migrate="always" if chosen_url is None or chosen_url.startswith("sqlite") else migrate,
        encode_denials=encode_denials,
        forwarded_allow_ips=parse_networks(forwarded_allow_ips),
        body_timeout=_positive(body_timeout),
        rate_limit=_rate(rate_limit),
        rate_burst=None if rate_burst is None else _burst(rate_burst),
        metrics=metrics,
        log_format=_log_format(log_format),
        audit_trail=audit_trail,
        audit_retention_days=_days("audit-retention-days", str(audit_retention_days)),
        audit_org_view=audit_org_view,
    )


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR blocks ("10.0.0.5, 192.168.0.0/16"); "" names none. A block
    with host bits set ("10.0.0.5/8") is refused: it is more likely a typo than a wish."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ip_network(item))
        except ValueError:
            raise ConfigError(f"forwarded-allow-ips: {item!r} is not an IP address or CIDR block") from None
    return tuple(networks)


def _switch(setting: str, text: str) -> bool:
    word = text.strip().lower()
    if word in ("on", "true", "1", "yes"):
        return True
    if word in ("off", "false", "0", "no"):
        return False
    raise ConfigError(f"{setting}: {text!r} is neither on nor off")


def _log_format(text: str) -> LogFormat:
    for known in LOG_FORMATS:
        if text == known:
            return known
    raise ConfigError(f"log-format: {text!r} is not one of {', '.join(LOG_FORMATS)}")


def _command(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError as e:  # unbalanced quotes
        raise ConfigError(f"master-key-command: {e}") from None


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"body-timeout: {text!r} is not a number of seconds") from None


def _positive(seconds: float) -> float:
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"body-timeout: {seconds} is not a positive number of seconds")
    return seconds


def _days(setting: str, text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise ConfigError(f"{setting}: {text!r} is not a whole number of days") from None
    if days < 1:
        raise ConfigError(f"{setting}: {days} is not a positive number of days")
    return days


def _number(setting: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{setting}: {text!r} is not a number") from None


def _rate(per_second: float) -> float:
    if not (math.isfinite(per_second) and per_second >= 0):
        raise ConfigError(f"rate-limit: {per_second} is not a number of requests per second (0: off)")
    return per_second


def _burst(requests: float) -> float:
    if not (math.isfinite(requests) and requests >= 1):
        raise ConfigError(f"rate-burst: {requests} lets no request through (at least 1)")
    return requests


def keyring_file(config: ServerConfig) -> Path:
    return config.data_dir / "keyring"


def load_keyring(config: ServerConfig) -> KeyRing:
    """The master key command's output wins; else the master key from the environment; else the key
    file in the data directory, created 0600 on first start. Raises ConfigError when the command
    fails."""
    if config.master_key_command:
        return _ring_from_command(config.master_key_command)
    if config.master_key:
        return keyring_from_text(config.master_key.reveal())
    path = keyring_file(config)
    if not path.exists():
        config.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_line("k1", secrets.token_bytes(32)) + "\n")
    return keyring_from_text(path.read_text())


def _ring_from_command(argv: tuple[str, ...]) -> KeyRing:
    """Runs the command without a shell; its standard output is the ring. Errors never carry the
    output (it is key material); the command's own standard error goes to ours."""
    name = argv[0]
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=MASTER_KEY_COMMAND_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"master-key-command: {name} did not finish within {MASTER_KEY_COMMAND_TIMEOUT:g} seconds"
        ) from None
    except OSError as e:
        raise ConfigError(f"master-key-command: {name} could not be run ({e.strerror})") from None
    if done.returncode != 0:
        raise ConfigError(f"master-key-command: {name} exited with status {done.returncode}")
    try:
        return keyring_from_text(done.stdout.decode())
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"master-key-command: what {name} printed is not a key ring") from None


def save_keyring(config: ServerConfig, ring: KeyRing) -> None:
    """Replaces the key file in one step (a node reading it sees the old ring or the new, never half)."""
    path = keyring_file(config)
    staged = path.with_name(path.name + ".new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(ring.to_text())
    os.replace(staged, path)
