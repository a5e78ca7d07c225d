"""Who signed this request: SigV4 verification plus the credential behind the access key.

Long-term keys come from the store (cached); temporary keys are validated from the sealed session
token alone, so the STS hot path never touches the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from rolehop.core import arn
from rolehop.core.account_lifecycle import is_closed
from rolehop.core.entities import AccessKey, Account, Identity
from rolehop.core.errors import AccessDenied, ExpiredToken, InvalidClientTokenId
from rolehop.core.keyring import UnsealError
from rolehop.core.session_token import SessionClaims, open_token, temporary_secret
from rolehop.services.pipeline.caller import Caller, LongTermKey
from rolehop.services.pipeline.runtime import Runtime
from rolehop.sigv4 import SigV4Scope, verify_request

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
SECRET_PURPOSE = b"rolehop/access-key-secret/"
KEY_ID_MIN, KEY_ID_MAX = 16, 128  # DESIGN.md: access key IDs are 16-128 characters


def seal_secret(rt: Runtime, access_key_id: str, secret: str) -> bytes:
    return rt.ring.seal(secret.encode(), purpose=SECRET_PURPOSE + access_key_id.encode(), nonce=rt.random(12))


def open_secret(rt: Runtime, key: AccessKey) -> str:
    _kid, raw = rt.ring.open(key.sealed_secret, purpose=SECRET_PURPOSE + key.access_key_id.encode())
    return raw.decode()


def _closed(account: Account | None, rt: Runtime) -> bool:
    """A closed account's credentials no longer work (CloseAccount: SUSPENDED, docs/decisions.md)."""
    return account is not None and is_closed(account, rt.clock())


def _load_long_term(rt: Runtime, access_key_id: str) -> LongTermKey | None:
    with rt.store.transaction() as tx:
        key = tx.get_key(access_key_id)
        if key is None or key.status != "Active" or _closed(tx.get_account(key.account_id), rt):
            return None
        if key.user_id is None:
            caller = Caller(
                key.account_id, arn.root_arn(key.account_id), key.account_id, "root", access_key_id
            )
        else:
            user = tx.get_identity_by_id(key.user_id)
            if user is None:
                return None
            caller = Caller(key.account_id, user.arn, user.unique_id, "user", access_key_id, identity=user)
    return LongTermKey(open_secret(rt, key), caller)


def long_term_entry(rt: Runtime, access_key_id: str) -> LongTermKey | None:
    return rt.caches.access_keys.get(access_key_id, lambda: _load_long_term(rt, access_key_id))


def caller_from_claims(rt: Runtime, claims: SessionClaims) -> Caller:
    """The principal a session speaks for; its identity (user or role) is looked up, cached."""
    source = claims.source_arn or claims.principal_arn
    identity = None
    # a federated user's session speaks for the IAM user who asked for it (none: the root user)
    federated = claims.kind == "federated-user"
    if claims.kind != "root" and not (federated and not claims.issuer_id):
        unique_id = claims.issuer_id if federated else claims.user_id.split(":", 1)[0]

        def load() -> Identity | None:
            with rt.store.transaction() as tx:
                identity = tx.get_identity_by_id(unique_id)
                return None if identity and _closed(tx.get_account(identity.account_id), rt) else identity

        identity = rt.caches.identities.get(unique_id, load)
        if identity is None or identity.arn != source:
            # the user or role was deleted (or replaced by a namesake) since the session began
            raise InvalidClientTokenId(INVALID_TOKEN)
    return Caller(
        claims.account_id,
        claims.principal_arn,
        claims.user_id,
        "assumed-role" if claims.kind == "assumed-role" else claims.kind,  # type: ignore[arg-type]
        claims.access_key_id,
        identity=identity,
        claims=claims,
    )


def security_token_of(target: str, headers: Sequence[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "x-amz-security-token":
            return value.strip()
    query = urlsplit(target).query
    if "X-Amz-Security-Token" in query:
        for k, v in parse_qsl(query, keep_blank_values=True):
            if k == "X-Amz-Security-Token":
                return v
    return None


def authenticate(
    rt: Runtime, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes
) -> tuple[Caller, SigV4Scope]:
    now = rt.clock()
    token = security_token_of(target, headers)
    claims: SessionClaims | None = None
    temp_secret: str | None = None
    if token:
        try:
            key_id, claims = open_token(rt.ring, token)
        except UnsealError as e:
            raise InvalidClientTokenId(INVALID_TOKEN) from e
        temp_secret = temporary_secret(rt.ring, key_id, claims)

    entry: list[LongTermKey] = []

    def secret_for(access_key_id: str) -> str | None:
        if not KEY_ID_MIN <= len(access_key_id) <= KEY_ID_MAX or "\x00" in access_key_id:
            # never looked up nor cached: the cache is not the attacker's to fill, and no store
            # can even be asked about a NUL
            return None
        if claims is not None:
            return temp_secret if access_key_id == claims.access_key_id else None
        found = long_term_entry(rt, access_key_id)
        if found is not None:
            entry.append(found)
            return found.secret
        return None

    scope = verify_request(method, target, headers, body, secret_for=secret_for, now=now)
    if claims is not None:
        if claims.expired(now):
            raise ExpiredToken(EXPIRED_TOKEN)
        return caller_from_claims(rt, claims), scope
    return entry[0].caller, scope


def check_session_scope(caller: Caller, service: str, action: str) -> None:
    """GetSessionToken credentials reach IAM only when MFA was given, and of STS only AssumeRole
    and GetCallerIdentity (STS API reference, GetSessionToken). IAM answers the token as invalid.
    GetFederationToken credentials reach no IAM operation and of STS only GetCallerIdentity (STS API
    reference, GetFederationToken)."""
    claims = caller.claims
    if claims is not None and claims.token_kind == "federation":
        if service == "iam":
            raise InvalidClientTokenId(INVALID_TOKEN)
        if service == "sts" and action != "GetCallerIdentity":
            raise AccessDenied(f"Cannot call {action} with session credentials")
        return
    if claims is None or claims.token_kind != "session":
        return
    if service == "iam" and not claims.mfa_authenticated:
        raise InvalidClientTokenId(INVALID_TOKEN)
    if service == "sts" and action not in ("AssumeRole", "GetCallerIdentity", "GetSessionToken"):
        raise AccessDenied(f"Cannot call {action} with session credentials")
