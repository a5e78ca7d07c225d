"""SQL storage of IAM's identity providers (implements services.ports.federation).

One row per OIDC provider (client IDs and thumbprints as JSON lists) and one per SAML provider
(its metadata document, and its private keys as a JSON list of sealed keys). Migration 0014 creates
the tables. Writes bump the store version: providers decide STS federation.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Row, String, Table, Text, delete, select, update

from rolehop.services.ports.federation import OidcProvider, SamlPrivateKey, SamlProvider
from rolehop.store.rows import insert_unique, row_dict
from rolehop.store.schema import metadata

TS = DateTime(timezone=True)

oidc_providers = Table(
    "oidc_providers",
    metadata,
    Column("provider_id", String(40), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("arn", String(320), nullable=False, unique=True),
    Column("url", String(300), nullable=False),
    Column("client_ids", Text, nullable=False),
    Column("thumbprints", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("context_provider", Text, nullable=True),
)

saml_providers = Table(
    "saml_providers",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("arn", String(320), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("metadata_document", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("valid_until", TS, nullable=False),
    Column("assertion_encryption_mode", String(16), nullable=True),
    Column("private_keys", Text, nullable=False),
    Column("context_provider", Text, nullable=True),
)


def _oidc(row: Row[Any]) -> OidcProvider:
    d = row_dict(row)
    d["client_ids"] = tuple(json.loads(d["client_ids"]))
    d["thumbprints"] = tuple(json.loads(d["thumbprints"]))
    return OidcProvider(**d)


def _saml(row: Row[Any]) -> SamlProvider:
    d = row_dict(row)
    d["private_keys"] = tuple(
        SamlPrivateKey(
            k["key_id"],
            base64.b64decode(k["sealed_key"]),
            datetime.fromisoformat(k["created_at"]),
        )
        for k in json.loads(d["private_keys"])
    )
    return SamlProvider(**d)


def _keys_json(provider: SamlProvider) -> str:
    return json.dumps(
        [
            {
                "key_id": k.key_id,
                "sealed_key": base64.b64encode(k.sealed_key).decode(),
                "created_at": k.created_at.isoformat(),
            }
            for k in provider.private_keys
        ]
    )


class FederationSqlMixin:
    c: Connection

    # OpenID Connect
    def insert_oidc_provider(self, provider: OidcProvider) -> None:
        values = {**provider.__dict__}
        values["client_ids"] = json.dumps(list(provider.client_ids))
        values["thumbprints"] = json.dumps(list(provider.thumbprints))
        url = provider.url
        insert_unique(self.c, oidc_providers, values, f"Provider with url {url} already exists.")

    def get_oidc_provider(self, arn: str, *, lock: bool = False) -> OidcProvider | None:
        q = select(oidc_providers).where(oidc_providers.c.arn == arn)
        row = self.c.execute(q.with_for_update() if lock else q).first()
        return _oidc(row) if row is not None else None

    def oidc_providers(self, account_id: str) -> list[OidcProvider]:
        o = oidc_providers.c
        rows = self.c.execute(select(oidc_providers).where(o.account_id == account_id).order_by(o.arn))
        return [_oidc(r) for r in rows]

    def update_oidc_provider(self, provider: OidcProvider) -> None:
        self.c.execute(
            update(oidc_providers)
            .where(oidc_providers.c.provider_id == provider.provider_id)
            .values(
                client_ids=json.dumps(list(provider.client_ids)),
                thumbprints=json.dumps(list(provider.thumbprints)),
                context_provider=provider.context_provider,
            )
        )

    def delete_oidc_provider(self, provider_id: str) -> None:
        self.c.execute(delete(oidc_providers).where(oidc_providers.c.provider_id == provider_id))

    # SAML
    def insert_saml_provider(self, provider: SamlProvider) -> None:
        values = {**provider.__dict__, "private_keys": _keys_json(provider)}
        insert_unique(self.c, saml_providers, values, f"SAMLProvider {provider.name} already exists.")

    def get_saml_provider(self, arn: str, *, lock: bool = False) -> SamlProvider | None:
        q = select(saml_providers).where(saml_providers.c.arn == arn)
        row = self.c.execute(q.with_for_update() if lock else q).first()
        return _saml(row) if row is not None else None

    def saml_providers(self, account_id: str) -> list[SamlProvider]:
        s = saml_providers.c
        rows = self.c.execute(select(saml_providers).where(s.account_id == account_id).order_by(s.arn))
        return [_saml(r) for r in rows]

    def update_saml_provider(self, provider: SamlProvider) -> None:
        self.c.execute(
            update(saml_providers)
            .where(saml_providers.c.provider_id == provider.provider_id)
            .values(
                metadata_document=provider.metadata_document,
                valid_until=provider.valid_until,
                assertion_encryption_mode=provider.assertion_encryption_mode,
                private_keys=_keys_json(provider),
                context_provider=provider.context_provider,
            )
        )

    def delete_saml_provider(self, provider_id: str) -> None:
        self.c.execute(delete(saml_providers).where(saml_providers.c.provider_id == provider_id))
