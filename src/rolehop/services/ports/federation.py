"""The storage port of IAM's identity providers: OpenID Connect and SAML providers (issue 11).

A provider is found by its ARN, which is unique (an OIDC provider's ARN is its URL without the
scheme, a SAML provider's its name). STS's federation (AssumeRoleWithWebIdentity, AssumeRoleWithSAML)
reads them through `get_oidc_provider` / `get_saml_provider`; the providers' tags are in the tags of
services.ports.store (resource kinds "oidc-provider" and "saml-provider", keyed by provider_id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OidcProvider:
    provider_id: str  # rolehop's own key (AWS shows none): the tags' resource id
    account_id: str
    arn: str  # arn:aws:iam::ACCOUNT:oidc-provider/HOST[:PORT]/PATH
    url: str  # as created, with its scheme (https://, or http:// for a loopback issuer in dev mode)
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]  # hex SHA-1 of the issuer's certificates, as given
    created_at: datetime
    context_provider: str | None = None  # trusted identity propagation: the ContextProvider, JSON


@dataclass(frozen=True)
class SamlPrivateKey:
    key_id: str
    sealed_key: bytes  # the PEM private key sealed with the key ring (services.iam.saml_providers)
    created_at: datetime


@dataclass(frozen=True)
class SamlProvider:
    provider_id: str  # SAMLProviderUUID
    account_id: str
    arn: str  # arn:aws:iam::ACCOUNT:saml-provider/NAME
    name: str
    metadata_document: str
    created_at: datetime
    valid_until: datetime
    assertion_encryption_mode: str | None  # Required, Allowed, or never set
    private_keys: tuple[SamlPrivateKey, ...] = ()
    context_provider: str | None = None  # trusted identity propagation: the ContextProvider, JSON


class FederationTx(Protocol):
    def insert_oidc_provider(self, provider: OidcProvider) -> None:
        """EntityAlreadyExists when the account has a provider of that ARN already."""
        ...

    def get_oidc_provider(self, arn: str, *, lock: bool = False) -> OidcProvider | None: ...
    def oidc_providers(self, account_id: str) -> list[OidcProvider]:
        """The account's providers, sorted by ARN."""
        ...

    def update_oidc_provider(self, provider: OidcProvider) -> None:
        """Stores its client IDs, thumbprints and context provider."""
        ...

    def delete_oidc_provider(self, provider_id: str) -> None: ...

    def insert_saml_provider(self, provider: SamlProvider) -> None:
        """EntityAlreadyExists when the account has a provider of that name already."""
        ...

    def get_saml_provider(self, arn: str, *, lock: bool = False) -> SamlProvider | None: ...
    def saml_providers(self, account_id: str) -> list[SamlProvider]:
        """The account's providers, sorted by ARN."""
        ...

    def update_saml_provider(self, provider: SamlProvider) -> None:
        """Stores its metadata, ValidUntil, encryption mode, private keys and context provider."""
        ...

    def delete_saml_provider(self, provider_id: str) -> None: ...
