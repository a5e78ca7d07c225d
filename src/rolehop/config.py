"""Settings for the server and the store commands, and the one place that decides where each comes
from: a flag on the command line, else its environment variable, else the default.
Secrets are wrapped so they never print."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rolehop.core.keyring import KeyRing, key_line, keyring_from_text

DEFAULT_PORT = 4640
DEFAULT_DATA_DIR = Path(".rolehop")
DEV_ACCOUNT_ID = "123456789012"
ORG_ACCOUNT_ID = "777764040422"  # the access guide's management account (AK)

# environment variables: the first two stand in for --database-url and --data-dir; the others have
# no flag (a secret on a command line is visible to every user of the machine)
DATABASE_URL_ENV = "ROLEHOP_DATABASE_URL"
DATA_DIR_ENV = "ROLEHOP_DATA_DIR"
ROOT_KEY_ID_ENV = "ROLEHOP_ROOT_ACCESS_KEY_ID"
ROOT_SECRET_ENV = "ROLEHOP_ROOT_SECRET_ACCESS_KEY"
MASTER_KEY_ENV = "ROLEHOP_MASTER_KEY"


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
    encode_denials: bool = False

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
    environ: Mapping[str, str] | None = None,
) -> ServerConfig:
    """The settings of a command: each flag (None when not given) wins over its environment
    variable, which wins over the default. Without either, a dev server gets a fresh temporary
    data directory (it starts empty every time, like an emulator); anything else `.rolehop`."""
    env = os.environ if environ is None else environ
    chosen_dir = data_dir or (Path(env[DATA_DIR_ENV]) if env.get(DATA_DIR_ENV) else None)
    if chosen_dir is None:
        chosen_dir = Path(tempfile.mkdtemp(prefix="rolehop-dev-")) if dev else DEFAULT_DATA_DIR
    return ServerConfig(
        host=host,
        port=port,
        data_dir=chosen_dir,
        database_url=database_url or env.get(DATABASE_URL_ENV) or None,
        dev=dev,
        account_id=account_id,
        root_access_key_id=env.get(ROOT_KEY_ID_ENV) or None,
        root_secret=Secret(env.get(ROOT_SECRET_ENV, "")),
        master_key=Secret(env.get(MASTER_KEY_ENV, "")),
        encode_denials=encode_denials,
    )


def load_keyring(config: ServerConfig) -> KeyRing:
    """The master key from the environment wins; else the key file in the data directory, created
    0600 on first start."""
    if config.master_key:
        return keyring_from_text(config.master_key.reveal())
    path = config.data_dir / "keyring"
    if not path.exists():
        config.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_line("k1", secrets.token_bytes(32)) + "\n")
    return keyring_from_text(path.read_text())
