"""Self-contained temporary credentials.

A session token is the session's claims sealed with the key ring; the temporary secret is an HMAC
of the access key ID under the sealing key. Any node holding the ring validates a request signed
with temporary credentials without reading the database.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rolehop.core.keyring import KeyRing, UnsealError

TOKEN_PURPOSE = b"rolehop/session-token/v1"
TOKEN_PREFIX = "RH1"  # lets us change the codec later without guessing


@dataclass(frozen=True, slots=True)
class SessionClaims:
    access_key_id: str  # ASIA…
    account_id: str
    principal_arn: str  # user/root ARN for GetSessionToken; assumed-role ARN for AssumeRole;
    # federated-user ARN for GetFederationToken
    user_id: str  # AIDA… for users, AROA…:session for roles, account ID for root, ACCOUNT:name federated
    kind: str  # "user" | "root" | "assumed-role" | "federated-user"
    issued_at: int  # epoch seconds
    expires_at: int
    source_arn: str = ""  # the long-term identity behind a GetSessionToken session; the role ARN for roles
    mfa_authenticated: bool = False
    mfa_auth_time: int | None = None
    session_name: str = ""
    source_identity: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    session_policy: str = ""  # inline session policy text
    session_policy_arns: tuple[str, ...] = ()
    chained: bool = False  # assumed with role credentials: capped at one hour
    token_kind: str = "session"  # "session" (GetSessionToken) or "role" (AssumeRole) or "federation"
    issuer_id: str = ""  # federation: the unique ID of the IAM user who called GetFederationToken ("" root)
    salt: str = ""  # random, sealed in the token: makes the derived secret unique per session
    extra: dict[str, str] = field(default_factory=dict)

    def expired(self, now: datetime) -> bool:
        return now.timestamp() >= self.expires_at

    @property
    def expiration(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)


_FIELDS = tuple(SessionClaims.__dataclass_fields__)


def _encode(claims: SessionClaims) -> bytes:
    # a plain field walk: dataclasses.asdict deep-copies and costs 3x on the AssumeRole hot path
    fields = {f: getattr(claims, f) for f in _FIELDS}
    return json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()


def _decode(raw: bytes) -> SessionClaims:
    data = json.loads(raw)
    data["tags"] = tuple(tuple(t) for t in data.get("tags", ()))
    data["transitive_tag_keys"] = tuple(data.get("transitive_tag_keys", ()))
    data["session_policy_arns"] = tuple(data.get("session_policy_arns", ()))
    return SessionClaims(**data)


def seal_token(ring: KeyRing, claims: SessionClaims, *, nonce: bytes) -> str:
    blob = ring.seal(_encode(claims), purpose=TOKEN_PURPOSE, nonce=nonce)
    return TOKEN_PREFIX + base64.b64encode(blob).decode()


def open_token(ring: KeyRing, token: str) -> tuple[str, SessionClaims]:
    """Returns (sealing key id, claims); raises UnsealError for anything not sealed by this ring."""
    if not token.startswith(TOKEN_PREFIX):
        raise UnsealError("not a rolehop session token")
    try:
        blob = base64.b64decode(token[len(TOKEN_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as e:
        raise UnsealError("not base64") from e
    key_id, raw = ring.open(blob, purpose=TOKEN_PURPOSE)
    try:
        return key_id, _decode(raw)
    except (ValueError, TypeError, KeyError) as e:  # sealed by us, so only a codec change lands here
        raise UnsealError("unreadable claims") from e


def temporary_secret(ring: KeyRing, key_id: str, claims: SessionClaims) -> str:
    """The session's secret: HMAC of its access key ID and random salt, so two sessions never share
    one even if their (partly random) key IDs collide."""
    label = f"rolehop/temporary-secret/{claims.access_key_id}/{claims.salt}"
    digest = ring.derive(key_id, label.encode())
    return base64.b64encode(digest[:30]).decode()
