"""What `rolehop configure` wrote, kept in ~/.rolehop/profiles.json (0600): for each main profile
its endpoint, region, user, MFA device and the role profiles made for it.

The AWS config files stay the source of truth for the AWS tools; this record lets configure tell its
own profiles from the user's (it updates and removes only its own), lets `rolehop roles` show which
profile stands for which role, and gives `rolehop assume` the role of a profile written in
credential_process style (which cannot carry role_arn, or botocore would assume the role itself).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rolehop.cli.user.fs import private_dir, read_json, rolehop_home, write_json

DEFAULT_MAIN = "rolehop"


@dataclass(frozen=True)
class RoleInfo:
    """One entry of GET /_rolehop/assumable-roles."""

    account_id: str
    account_name: str
    display_name: str
    alias: str | None
    role_name: str
    role_arn: str
    max_session_duration: int

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> RoleInfo:
        return cls(
            str(item["AccountId"]),
            str(item.get("AccountName") or item["AccountId"]),
            str(item.get("DisplayName") or item.get("AccountName") or item["AccountId"]),
            item.get("Alias") or None,
            str(item["RoleName"]),
            str(item["RoleArn"]),
            int(item.get("MaxSessionDuration") or 3600),
        )


@dataclass
class MainRecord:
    endpoint: str
    region: str
    user_arn: str
    mfa_serial: str | None = None
    style: str = "standard"  # or "process": role profiles call `rolehop assume --json`
    roles: dict[str, RoleInfo] = field(default_factory=dict)  # profile name -> role

    @property
    def user_name(self) -> str:
        return self.user_arn.rsplit("/", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "roles": {name: asdict(role) for name, role in self.roles.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MainRecord:
        roles = {name: RoleInfo(**role) for name, role in (data.get("roles") or {}).items()}
        return cls(
            data["endpoint"],
            data["region"],
            data["user_arn"],
            data.get("mfa_serial"),
            data.get("style", "standard"),
            roles,
        )


class State:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or rolehop_home() / "profiles.json"
        self.default: str | None = None
        self.mains: dict[str, MainRecord] = {}
        data = read_json(self.path) or {}
        try:
            self.mains = {k: MainRecord.from_json(v) for k, v in (data.get("mains") or {}).items()}
            self.default = data.get("default")
        except (KeyError, TypeError, ValueError):
            self.mains, self.default = {}, None  # unreadable: start afresh, configure rewrites it

    def save(self) -> None:
        private_dir(self.path.parent)
        write_json(
            self.path,
            {"version": 1, "default": self.default, "mains": {k: v.to_json() for k, v in self.mains.items()}},
        )

    def main_name(self, given: str | None) -> str:
        """The main profile a command works on: --profile, else the last one configured."""
        return given or self.default or DEFAULT_MAIN

    def role_of(self, profile: str) -> tuple[str, RoleInfo] | None:
        for main, record in self.mains.items():
            if profile in record.roles:
                return main, record.roles[profile]
        return None

    def owner_of(self, profile: str) -> str | None:
        """The main profile whose configure wrote `profile` (a main profile owns itself)."""
        if profile in self.mains:
            return profile
        found = self.role_of(profile)
        return found[0] if found else None
