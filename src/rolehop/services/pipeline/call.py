"""Who is calling and in what circumstances: what every operation receives first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from rolehop.core.entities import Identity
from rolehop.core.session_token import SessionClaims
from rolehop.services.pipeline.runtime import Runtime

PrincipalKind = Literal["root", "user", "assumed-role"]


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str
    user_id: str  # AIDA… for users, AROA…:session for role sessions, the account ID for root
    kind: PrincipalKind
    access_key_id: str
    identity: Identity | None = None  # the user, or the role behind a session
    claims: SessionClaims | None = None  # temporary credentials only

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def user_name(self) -> str | None:
        return self.identity.name if self.kind == "user" and self.identity else None


@dataclass
class Call:
    runtime: Runtime
    caller: Caller
    request_id: str
    now: datetime
    service: str
    region: str
    source_ip: str = ""
    secure_transport: bool = False
    explanations: list[str] = field(default_factory=list)
