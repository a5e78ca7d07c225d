"""Typed settings for the server and commands. Secrets are wrapped so they never print."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from rolehop.core.keyring import KeyRing, key_line, keyring_from_text

DEFAULT_PORT = 4640
DEV_ACCOUNT_ID = "123456789012"
ORG_ACCOUNT_ID = "777764040422"  # the access guide's management account (AK)


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
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("ROLEHOP_DATA_DIR", ".rolehop")))
    database_url: str | None = None
    dev: bool = False
    account_id: str | None = None
    root_access_key_id: str | None = None
    root_secret: Secret = field(default_factory=lambda: Secret(""))
    encode_denials: bool = False

    @property
    def store_url(self) -> str:
        return (
            self.database_url
            or os.environ.get("ROLEHOP_DATABASE_URL")
            or f"sqlite:///{self.data_dir / 'rolehop.db'}"
        )

    @property
    def management_account_id(self) -> str:
        if self.account_id:
            return self.account_id
        return DEV_ACCOUNT_ID if self.dev else ORG_ACCOUNT_ID


def root_key_from_env() -> tuple[str | None, Secret]:
    return os.environ.get("ROLEHOP_ROOT_ACCESS_KEY_ID"), Secret(
        os.environ.get("ROLEHOP_ROOT_SECRET_ACCESS_KEY", "")
    )


def load_keyring(data_dir: Path) -> KeyRing:
    """ROLEHOP_MASTER_KEY wins; else the key file in the data directory, created 0600 on first start."""
    text = os.environ.get("ROLEHOP_MASTER_KEY")
    if text:
        return keyring_from_text(text)
    path = data_dir / "keyring"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_line("k1", secrets.token_bytes(32)) + "\n")
    return keyring_from_text(path.read_text())
