"""SQL storage of SSH public keys, signing and server certificates and service-specific credentials
(implements services.ports.iam_credentials). Migration 0015 creates the tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from rolehop.core.errors import EntityAlreadyExists
from rolehop.services.ports.iam_credentials import (
    ServerCertificate,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
)
from rolehop.store.conflicts import is_duplicate
from rolehop.store.rows import insert_unique, row_dict
from rolehop.store.schema import metadata, tags

TS = DateTime(timezone=True)


def _account() -> Column[Any]:
    return Column(
        "account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False
    )


def _user(nullable: bool = False) -> Column[Any]:
    return Column(
        "user_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE"), nullable=nullable
    )


ssh_public_keys = Table(
    "ssh_public_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    _account(),
    _user(),
    Column("body", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("uploaded_at", TS, nullable=False),
)
Index("ix_ssh_public_keys_user", ssh_public_keys.c.user_id)

signing_certificates = Table(
    "signing_certificates",
    metadata,
    Column("cert_id", String(64), primary_key=True),
    _account(),
    _user(nullable=True),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("uploaded_at", TS, nullable=False),
)
Index("ix_signing_certificates_owner", signing_certificates.c.account_id, signing_certificates.c.user_id)

server_certificates = Table(
    "server_certificates",
    metadata,
    Column("cert_id", String(32), primary_key=True),
    _account(),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),  # lower-cased: names are unique ignoring case
    Column("path", String(512), nullable=False),
    Column("body", Text, nullable=False),
    Column("chain", Text, nullable=True),
    Column("sealed_private_key", LargeBinary, nullable=False),
    Column("uploaded_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    UniqueConstraint("account_id", "name_key", name="uq_server_certificates_name"),
)

service_credentials = Table(
    "service_credentials",
    metadata,
    Column("credential_id", String(32), primary_key=True),
    _account(),
    _user(),
    Column("service", String(128), nullable=False),
    Column("service_user_name", String(200), nullable=True),
    Column("alias", String(200), nullable=True),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=True),
)
Index("ix_service_credentials_owner", service_credentials.c.account_id, service_credentials.c.user_id)

SERVER_CERT_MESSAGE = "The Server Certificate with name {} already exists."


def _values(obj: Any) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in type(obj).__dataclass_fields__}


def _server(row: Row[Any]) -> ServerCertificate:
    values = row_dict(row)
    del values["name_key"]
    return ServerCertificate(**values)


class IamCredentialSqlMixin:
    c: Connection

    # --- SSH public keys
    def insert_ssh_key(self, key: SshPublicKey) -> None:
        self.c.execute(insert(ssh_public_keys).values(_values(key)))

    def ssh_keys_of(self, user_id: str) -> list[SshPublicKey]:
        k = ssh_public_keys.c
        rows = self.c.execute(select(ssh_public_keys).where(k.user_id == user_id).order_by(k.key_id))
        return [SshPublicKey(**row_dict(r)) for r in rows]

    def set_ssh_key_status(self, key_id: str, status: str) -> None:
        k = ssh_public_keys.c
        self.c.execute(update(ssh_public_keys).where(k.key_id == key_id).values(status=status))

    def delete_ssh_key(self, key_id: str) -> None:
        self.c.execute(delete(ssh_public_keys).where(ssh_public_keys.c.key_id == key_id))

    # --- signing certificates
    def insert_signing_certificate(self, cert: SigningCertificate) -> None:
        self.c.execute(insert(signing_certificates).values(_values(cert)))

    def signing_certificates_of(self, account_id: str, user_id: str | None) -> list[SigningCertificate]:
        s = signing_certificates.c
        owner = s.user_id.is_(None) if user_id is None else s.user_id == user_id
        rows = self.c.execute(
            select(signing_certificates).where(s.account_id == account_id, owner).order_by(s.cert_id)
        )
        return [SigningCertificate(**row_dict(r)) for r in rows]

    def signing_certificate_bodies(self, account_id: str) -> list[str]:
        s = signing_certificates.c
        return [r.body for r in self.c.execute(select(s.body).where(s.account_id == account_id))]

    def set_signing_certificate_status(self, cert_id: str, status: str) -> None:
        s = signing_certificates.c
        self.c.execute(update(signing_certificates).where(s.cert_id == cert_id).values(status=status))

    def delete_signing_certificate(self, cert_id: str) -> None:
        self.c.execute(delete(signing_certificates).where(signing_certificates.c.cert_id == cert_id))

    # --- server certificates
    def insert_server_certificate(self, cert: ServerCertificate) -> None:
        insert_unique(
            self.c,
            server_certificates,
            {**_values(cert), "name_key": cert.name.lower()},
            SERVER_CERT_MESSAGE.format(cert.name),
        )

    def get_server_certificate(self, account_id: str, name: str) -> ServerCertificate | None:
        s = server_certificates.c
        row = self.c.execute(
            select(server_certificates).where(s.account_id == account_id, s.name_key == name.lower())
        ).first()
        return _server(row) if row is not None else None

    def list_server_certificates(self, account_id: str) -> list[ServerCertificate]:
        s = server_certificates.c
        rows = self.c.execute(select(server_certificates).where(s.account_id == account_id))
        return [_server(r) for r in rows]

    def rename_server_certificate(self, cert_id: str, name: str, path: str) -> None:
        s = server_certificates.c
        q = update(server_certificates).where(s.cert_id == cert_id)
        try:
            with self.c.begin_nested():
                self.c.execute(q.values(name=name, name_key=name.lower(), path=path))
        except IntegrityError as e:
            if not is_duplicate(e):
                raise
            raise EntityAlreadyExists(SERVER_CERT_MESSAGE.format(name)) from e

    def delete_server_certificate(self, cert_id: str) -> None:
        g = tags.c
        self.c.execute(delete(server_certificates).where(server_certificates.c.cert_id == cert_id))
        self.c.execute(delete(tags).where(g.resource_kind == "server-certificate", g.resource_id == cert_id))

    def reseal_server_certificate_key(self, cert_id: str, sealed_private_key: bytes) -> None:
        s = server_certificates.c
        q = update(server_certificates).where(s.cert_id == cert_id)
        self.c.execute(q.values(sealed_private_key=sealed_private_key))

    # --- service-specific credentials
    def insert_service_credential(self, cred: ServiceCredential) -> None:
        self.c.execute(insert(service_credentials).values(_values(cred)))

    def service_credentials_of(self, account_id: str, user_id: str | None) -> list[ServiceCredential]:
        s = service_credentials.c
        q = select(service_credentials).where(s.account_id == account_id)
        if user_id is not None:
            q = q.where(s.user_id == user_id)
        return [ServiceCredential(**row_dict(r)) for r in self.c.execute(q.order_by(s.credential_id))]

    def update_service_credential(self, cred: ServiceCredential) -> None:
        s = service_credentials.c
        values = _values(cred)
        self.c.execute(
            update(service_credentials).where(s.credential_id == cred.credential_id).values(values)
        )

    def delete_service_credential(self, credential_id: str) -> None:
        s = service_credentials.c
        self.c.execute(delete(service_credentials).where(s.credential_id == credential_id))
