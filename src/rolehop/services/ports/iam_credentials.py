"""The storage port of IAM users' SSH public keys, signing certificates and service-specific
credentials, and of the account's server certificates.

Quotas (keys per user, certificates per user, credentials per user and service) are checked by the
service while it holds the owner's row lock (Tx.lock_identity / lock_account), so concurrent uploads
count each other. Secrets are stored sealed with the key ring (a server certificate's private key, a
service-specific credential's password or secret) and never returned by the store in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rolehop.core import arn


@dataclass(frozen=True, slots=True)
class SshPublicKey:
    key_id: str  # APKA…
    account_id: str
    user_id: str
    body: str  # as uploaded
    fingerprint: str
    status: str  # Active | Inactive
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class SigningCertificate:
    cert_id: str
    account_id: str
    user_id: str | None  # None: the account's root user
    body: str
    status: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    cert_id: str  # ASCA…
    account_id: str
    name: str
    path: str
    body: str
    chain: str | None
    sealed_private_key: bytes
    uploaded_at: datetime
    expires_at: datetime

    @property
    def arn(self) -> str:
        return arn.iam_arn(self.account_id, "server-certificate", self.path, self.name)


@dataclass(frozen=True, slots=True)
class ServiceCredential:
    credential_id: str  # ACCA…
    account_id: str
    user_id: str
    service: str
    service_user_name: str | None  # codecommit, cassandra: <user>-at-<account>
    alias: str | None  # bedrock, logs: the public part of the API key
    sealed_secret: bytes  # the password (or API key secret)
    status: str
    created_at: datetime
    expires_at: datetime | None


class IamCredentialTx(Protocol):
    def insert_ssh_key(self, key: SshPublicKey) -> None: ...
    def ssh_keys_of(self, user_id: str) -> list[SshPublicKey]: ...
    def set_ssh_key_status(self, key_id: str, status: str) -> None: ...
    def delete_ssh_key(self, key_id: str) -> None: ...

    def insert_signing_certificate(self, cert: SigningCertificate) -> None: ...
    def signing_certificates_of(self, account_id: str, user_id: str | None) -> list[SigningCertificate]: ...
    def signing_certificate_bodies(self, account_id: str) -> list[str]:
        """The body of every signing certificate of the account's users (and root)."""
        ...

    def set_signing_certificate_status(self, cert_id: str, status: str) -> None: ...
    def delete_signing_certificate(self, cert_id: str) -> None: ...

    def insert_server_certificate(self, cert: ServerCertificate) -> None:
        """EntityAlreadyExists when the account has a server certificate of that name (ignoring case)."""
        ...

    def get_server_certificate(self, account_id: str, name: str) -> ServerCertificate | None: ...
    def list_server_certificates(self, account_id: str) -> list[ServerCertificate]: ...
    def rename_server_certificate(self, cert_id: str, name: str, path: str) -> None:
        """EntityAlreadyExists when the new name is taken."""
        ...

    def delete_server_certificate(self, cert_id: str) -> None: ...
    def reseal_server_certificate_key(self, cert_id: str, sealed_private_key: bytes) -> None: ...

    def insert_service_credential(self, cred: ServiceCredential) -> None: ...
    def service_credentials_of(self, account_id: str, user_id: str | None) -> list[ServiceCredential]:
        """A user's credentials (user_id None: every user's of the account)."""
        ...

    def update_service_credential(self, cred: ServiceCredential) -> None: ...
    def delete_service_credential(self, credential_id: str) -> None: ...
