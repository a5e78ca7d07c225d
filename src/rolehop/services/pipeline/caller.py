"""Who is calling: the principal behind a request's credentials, as authentication found it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rolehop.core.entities import Identity
from rolehop.core.session_token import SessionClaims

PrincipalKind = Literal["root", "user", "assumed-role", "federated-user"]


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str
    user_id: str  # AIDA… for users, AROA…:session for role sessions, the account ID for root,
    # ACCOUNT:name for federated users
    kind: PrincipalKind
    access_key_id: str
    identity: Identity | None = None  # the user, or the role behind a session, or a federated user's IAM user
    claims: SessionClaims | None = None  # temporary credentials only

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def federated_by_root(self) -> bool:
        """A GetFederationToken session of the account's root user: it holds root's permissions."""
        return self.kind == "federated-user" and self.claims is not None and not self.claims.issuer_id

    @property
    def user_name(self) -> str | None:
        return self.identity.name if self.kind == "user" and self.identity else None


@dataclass(frozen=True)
class LongTermKey:
    """An active long-term access key as authentication needs it: its secret and whom it speaks for."""

    secret: str
    caller: Caller
