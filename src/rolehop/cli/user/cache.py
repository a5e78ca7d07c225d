"""Temporary credentials kept between commands: the MFA session (GetSessionToken with a code) and
the role sessions assumed with it, one JSON file each in ~/.rolehop/cache (0700 directory, 0600
files). A cache entry records which main profile it came from, so `rolehop logout` can drop them."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rolehop.cli.user.fs import locked, private_dir, read_json, rolehop_home, write_json


def iso(when: datetime) -> str:
    """UTC, second precision, with a Z: what credential_process's Expiration and AWS use."""
    return when.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TempCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime

    def seconds_left(self, now: datetime) -> float:
        return (self.expiration - now).total_seconds()

    @classmethod
    def from_sts(cls, shape: dict[str, Any]) -> TempCredentials:
        """From STS's Credentials shape as botocore parses it (Expiration a datetime)."""
        expiration = shape["Expiration"]
        if isinstance(expiration, str):
            expiration = parse_iso(expiration)
        return cls(shape["AccessKeyId"], shape["SecretAccessKey"], shape["SessionToken"], expiration)

    def process_json(self) -> dict[str, Any]:
        """credential_process's output (AWS CLI User Guide, "Sourcing credentials with an external
        process"): Version 1 and the four fields."""
        return {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": iso(self.expiration),
        }


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class CredentialCache:
    """Entries are files `<kind>-<key>.json`; an entry is a dict with the credentials under
    "Credentials" and whatever the caller records beside them (profile, role ARN…)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or rolehop_home() / "cache"

    def _dir(self) -> Path:
        private_dir(self.directory.parent)
        return private_dir(self.directory)

    def _path(self, kind: str, key: str) -> Path:
        return self._dir() / f"{kind}-{key}.json"

    def get(self, kind: str, key: str) -> tuple[TempCredentials, dict[str, Any]] | None:
        entry = read_json(self._path(kind, key))
        if entry is None:
            return None
        try:
            return TempCredentials.from_sts(entry["Credentials"]), entry
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, kind: str, key: str, creds: TempCredentials, **meta: str) -> None:
        shape = creds.process_json()
        del shape["Version"]
        write_json(self._path(kind, key), {**meta, "Credentials": shape})

    def drop(self, kind: str, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(kind, key).unlink()

    def entries(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        if not self.directory.is_dir():
            return
        for path in sorted(self._dir().glob("*-*.json")):
            entry = read_json(path)
            if entry is not None:
                yield path, entry

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with locked(self._dir() / f".{key}.lock"):
            yield
