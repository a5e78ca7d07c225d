"""Who is asking (`Caller`) and whom a Principal element names (`PrincipalSpec`).

A Principal element names a caller in one of four ways, and the evaluation logic cares which:
- DIRECT: the caller's own ARN (an IAM user, a role session, a federated user session), or the
  service, federated provider or canonical user it is;
- ROLE: the ARN of the role a session belongs to (or of the role itself);
- ANYONE: `"*"` / `{"AWS": "*"}`;
- ACCOUNT: the caller's account (`"123456789012"` or `arn:aws:iam::123456789012:root`).
A role ARN names its sessions by account and role name: the session ARN carries no path, and
role names are unique within an account whatever their path. Wildcards are not expanded inside
principal ARNs (IAM User Guide, Principal element). A plain string other than "*" is read as an
AWS principal.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rolehop.core.errors import MalformedPolicyDocument


class Named(enum.IntEnum):
    NONE = 0
    ACCOUNT = 1
    ANYONE = 2
    ROLE = 3
    DIRECT = 4


class Kind(enum.Enum):
    USER = "user"
    ROLE = "role"
    SESSION = "assumed-role"
    FEDERATED_USER = "federated-user"
    ROOT = "root"
    ANONYMOUS = "anonymous"
    SERVICE = "service"
    OTHER = "other"  # a federated provider, canonical user or unknown form


IAM_KINDS = frozenset({Kind.USER, Kind.ROLE, Kind.SESSION, Kind.FEDERATED_USER, Kind.ROOT})


@dataclass(frozen=True, slots=True)
class Caller:
    text: str
    kind: Kind
    account: str | None = None
    role_name: str | None = None
    role_path: str | None = None  # known only for a role ARN
    is_iam: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_iam", self.kind in IAM_KINDS)


@lru_cache(maxsize=4096)  # pure, and callers repeat: the same principals make most requests
def parse_caller(text: str) -> Caller:
    if text == "anonymous" or text == "*":
        return Caller(text, Kind.ANONYMOUS)
    if not text.startswith("arn:"):
        kind = (
            Kind.SERVICE
            if text.endswith(".amazonaws.com") or text.endswith(".amazonaws.com.cn")
            else Kind.OTHER
        )
        return Caller(text, kind)
    parts = text.split(":", 5)
    if len(parts) != 6:
        return Caller(text, Kind.OTHER)
    service, account, resource = parts[2], parts[4], parts[5]
    if service == "iam" and resource == "root":
        return Caller(text, Kind.ROOT, account)
    if service == "iam" and resource.startswith("user/"):
        return Caller(text, Kind.USER, account)
    if service == "iam" and resource.startswith("role/"):
        path, _, name = resource[len("role") :].rpartition("/")
        return Caller(text, Kind.ROLE, account, name, path + "/")
    if service == "sts" and resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        if len(pieces) >= 3:
            return Caller(text, Kind.SESSION, account, pieces[1])
    if service == "sts" and resource.startswith("federated-user/"):
        return Caller(text, Kind.FEDERATED_USER, account)
    return Caller(text, Kind.OTHER, account or None)


_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    anyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    roles: frozenset[tuple[str, str]] = frozenset()  # (account, role name)
    others: frozenset[str] = frozenset()  # services, federated providers, canonical users

    def named(self, caller: Caller) -> Named:
        """How strongly this element names the caller."""
        if caller.text in self.arns or caller.text in self.others:
            return Named.DIRECT
        if caller.kind is Kind.SERVICE and caller.text.lower() in self.others:
            return Named.DIRECT
        if caller.role_name is not None and (caller.account or "", caller.role_name) in self.roles:
            return Named.ROLE
        if self.anyone:
            return Named.ANYONE
        if caller.account is not None and caller.is_iam and caller.account in self.accounts:
            return Named.ACCOUNT
        return Named.NONE


def compile_principal(raw: Any) -> PrincipalSpec:
    if raw == "*":
        return PrincipalSpec(anyone=True)
    if isinstance(raw, str):
        raw = {"AWS": raw}
    if not isinstance(raw, Mapping) or not raw:
        raise MalformedPolicyDocument('Principal must be "*" or an object of principal types.')
    anyone = False
    accounts: set[str] = set()
    arns: set[str] = set()
    roles: set[tuple[str, str]] = set()
    others: set[str] = set()
    for kind, value in raw.items():
        if kind not in _TYPES:
            raise MalformedPolicyDocument(f"Unknown principal type {kind}.")
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                raise MalformedPolicyDocument(f"Principal {kind} values must be strings.")
            if kind != "AWS":
                others.add(item.lower() if kind == "Service" else item)
            elif item == "*":
                anyone = True
            else:
                _add_aws(item, accounts, arns, roles)
    return PrincipalSpec(anyone, frozenset(accounts), frozenset(arns), frozenset(roles), frozenset(others))


def _add_aws(item: str, accounts: set[str], arns: set[str], roles: set[tuple[str, str]]) -> None:
    if item.isdigit() and len(item) == 12:
        accounts.add(item)
        return
    caller = parse_caller(item)
    if caller.kind is Kind.ROOT and caller.account:
        accounts.add(caller.account)
    elif caller.kind is Kind.ROLE and caller.account and caller.role_name:
        roles.add((caller.account, caller.role_name))
    else:
        arns.add(item)
