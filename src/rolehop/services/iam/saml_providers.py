"""SAML identity providers: Create/Get/List/Update/Delete and tags.

A provider's metadata document is parsed (defusedxml: no DTDs, no entities) and must be a SAML 2.0
EntityDescriptor with an IDPSSODescriptor holding at least one signing X.509 certificate; anything
else is InvalidInput "Could not parse metadata", as AWS answers. ValidUntil is the metadata's
validUntil, else the provider's creation plus 100 years (docs/decisions.md). Private keys for
encrypted assertions (AddPrivateKey, at most 2) are sealed with the key ring like access-key secrets;
only their KeyId and Timestamp ever come back.

For AssumeRoleWithSAML: `signing_certificates(provider)` (the certificates assertions must be signed
with) and `private_keys(runtime, provider)` (to decrypt encrypted assertions).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from rolehop.core.errors import InvalidInput, LimitExceeded
from rolehop.core.keyring import key_id_of
from rolehop.services.iam import identity_providers as idp
from rolehop.services.iam.common import add_tags, request_tag_context, tag_shapes, tags_param
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.federation import SamlPrivateKey, SamlProvider
from rolehop.services.ports.store import Tx

KIND: idp.ProviderKind = "saml-provider"
ARN_PARAM = "SAMLProviderArn"
MAX_PROVIDERS = 100  # SAMLProvidersPerAccount
MAX_PRIVATE_KEYS = 2
DEFAULT_VALIDITY = timedelta(days=36525)  # 100 years
KEY_PURPOSE = b"rolehop/saml-private-key/"
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
UNPARSABLE = "Could not parse metadata"


@dataclass(frozen=True)
class Metadata:
    entity_id: str
    signing_certificates: tuple[x509.Certificate, ...]
    valid_until: datetime | None


def _certificates(descriptor: Element) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for key in descriptor.findall(f"{MD}KeyDescriptor"):
        if key.get("use") not in (None, "signing"):
            continue
        for element in key.iter(f"{DS}X509Certificate"):
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            certs.append(x509.load_der_x509_certificate(der))
    return certs


def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_metadata(document: str) -> Metadata:
    """The IdP's entity ID, signing certificates and validUntil; InvalidInput for anything else."""
    try:
        root = SafeElementTree.fromstring(document, forbid_dtd=True)
        entity_id = root.get("entityID") or ""
        descriptors = root.findall(f"{MD}IDPSSODescriptor")
        certs = [c for d in descriptors for c in _certificates(d)]
        valid_until = root.get("validUntil")
        until = _time(valid_until) if valid_until else None
    except (ParseError, DefusedXmlException, binascii.Error, ValueError, TypeError) as e:
        raise InvalidInput(UNPARSABLE) from e
    if root.tag != f"{MD}EntityDescriptor" or not entity_id or not certs:
        raise InvalidInput(UNPARSABLE)
    return Metadata(entity_id, tuple(certs), until)


def signing_certificates(provider: SamlProvider) -> tuple[x509.Certificate, ...]:
    return parse_metadata(provider.metadata_document).signing_certificates


def private_keys(rt: Runtime, provider: SamlProvider) -> list[rsa.RSAPrivateKey]:
    keys: list[rsa.RSAPrivateKey] = []
    for k in provider.private_keys:
        _kid, pem = rt.ring.open(k.sealed_key, purpose=KEY_PURPOSE + k.key_id.encode())
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            keys.append(key)
    return keys


def _get(tx: Tx, provider_arn: str) -> SamlProvider | None:
    return tx.get_saml_provider(provider_arn)


def _lock(tx: Tx, provider_arn: str) -> SamlProvider | None:
    return tx.get_saml_provider(provider_arn, lock=True)


def _random_id(call: Call) -> str:
    return base64.b32encode(call.runtime.random(15)).decode()  # 24 characters of [A-Z2-7]


def _private_key(call: Call, pem: str) -> SamlPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as e:
        raise InvalidInput("The private key is not a valid unencrypted PEM-encoded private key.") from e
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise InvalidInput("The private key must be an RSA key of at least 2048 bits.")
    key_id = _random_id(call) + _random_id(call)[:2]
    sealed = call.runtime.ring.seal(
        pem.encode(), purpose=KEY_PURPOSE + key_id.encode(), nonce=call.runtime.random(12)
    )
    return SamlPrivateKey(key_id, sealed, call.now)


def _check_keys(provider: SamlProvider) -> SamlProvider:
    if len(provider.private_keys) > MAX_PRIVATE_KEYS:
        raise LimitExceeded(
            f"The number of private keys has reached the maximum limit of {MAX_PRIVATE_KEYS}."
        )
    if provider.assertion_encryption_mode == "Required" and not provider.private_keys:
        raise InvalidInput("AssertionEncryptionMode Required needs at least one private key.")
    return provider


@operation("iam", "CreateSAMLProvider")
def create_saml_provider(call: Call, p: Params) -> Result:
    account_id = call.caller.account_id
    name = p["Name"]
    provider_arn = idp.provider_arn(account_id, KIND, name)
    tags = tags_param(p)
    context = request_tag_context(tags) | idp.propagation_context(p)
    authorize(call, "iam:CreateSAMLProvider", provider_arn, context=context)
    idp.no_identity_center(p)
    metadata = parse_metadata(p["SAMLMetadataDocument"])
    provider = _check_keys(
        SamlProvider(
            provider_id=_random_id(call) + _random_id(call)[:2],
            account_id=account_id,
            arn=provider_arn,
            name=name,
            metadata_document=p["SAMLMetadataDocument"],
            created_at=call.now,
            valid_until=metadata.valid_until or call.now + DEFAULT_VALIDITY,
            assertion_encryption_mode=p.get("AssertionEncryptionMode"),
            private_keys=(_private_key(call, p["AddPrivateKey"]),) if p.get("AddPrivateKey") else (),
            context_provider=idp.context_provider(p["ContextProvider"]) if p.get("ContextProvider") else None,
        )
    )
    with call.runtime.store.transaction() as tx:
        tx.lock_account(account_id)  # the per-account quota is checked one writer at a time
        if len(tx.saml_providers(account_id)) >= MAX_PROVIDERS:
            raise LimitExceeded(f"Cannot exceed quota for SAMLProvidersPerAccount: {MAX_PROVIDERS}")
        tx.insert_saml_provider(provider)
        add_tags(tx, KIND, provider.provider_id, tags)
    call.runtime.changed()
    result: dict[str, Any] = {"SAMLProviderArn": provider_arn}
    if tags:
        result["Tags"] = tag_shapes(tags)
    return result


@operation("iam", "GetSAMLProvider")
def get_saml_provider(call: Call, p: Params) -> Result:
    provider = idp.find(call, KIND, p[ARN_PARAM], "iam:GetSAMLProvider", _get)
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of(KIND, provider.provider_id)
    result: dict[str, Any] = {
        "SAMLProviderUUID": provider.provider_id,
        "SAMLMetadataDocument": provider.metadata_document,
        "CreateDate": provider.created_at,
        "ValidUntil": provider.valid_until,
        "Tags": tag_shapes(tags),
        **idp.context_shape(provider.context_provider),
    }
    if provider.assertion_encryption_mode:
        result["AssertionEncryptionMode"] = provider.assertion_encryption_mode
    if provider.private_keys:
        result["PrivateKeyList"] = [
            {"KeyId": k.key_id, "Timestamp": k.created_at} for k in provider.private_keys
        ]
    return result


@operation("iam", "ListSAMLProviders")
def list_saml_providers(call: Call, p: Params) -> Result:
    account_id = call.caller.account_id
    authorize(call, "iam:ListSAMLProviders", idp.provider_arn(account_id, KIND, "*"))
    with call.runtime.store.transaction() as tx:
        providers = tx.saml_providers(account_id)
    return {
        "SAMLProviderList": [
            {"Arn": s.arn, "ValidUntil": s.valid_until, "CreateDate": s.created_at} for s in providers
        ]
    }


@operation("iam", "UpdateSAMLProvider")
def update_saml_provider(call: Call, p: Params) -> Result:
    idp.find(call, KIND, p[ARN_PARAM], "iam:UpdateSAMLProvider", _get, idp.propagation_context(p))
    document = p.get("SAMLMetadataDocument")
    metadata = parse_metadata(document) if document else None
    added = _private_key(call, p["AddPrivateKey"]) if p.get("AddPrivateKey") else None
    removed = p.get("RemovePrivateKey")
    with call.runtime.store.transaction() as tx:
        current = _lock(tx, p[ARN_PARAM])
        if current is None:
            raise idp.not_found(KIND, p[ARN_PARAM])
        keys = list(current.private_keys)
        if removed is not None:
            if removed not in {k.key_id for k in keys}:
                raise InvalidInput(f"The private key {removed} does not exist for this SAML provider.")
            keys = [k for k in keys if k.key_id != removed]
        if added is not None:
            keys.append(added)
        changed = replace(
            current,
            private_keys=tuple(keys),
            assertion_encryption_mode=p.get("AssertionEncryptionMode") or current.assertion_encryption_mode,
            context_provider=idp.context_change(p, current.context_provider),
        )
        if document and metadata is not None:
            changed = replace(
                changed,
                metadata_document=document,
                valid_until=metadata.valid_until or current.created_at + DEFAULT_VALIDITY,
            )
        tx.update_saml_provider(_check_keys(changed))
    call.runtime.changed()
    return {"SAMLProviderArn": current.arn}


@operation("iam", "DeleteSAMLProvider")
def delete_saml_provider(call: Call, p: Params) -> Result:
    provider = idp.find(call, KIND, p[ARN_PARAM], "iam:DeleteSAMLProvider", _get)
    with call.runtime.store.transaction() as tx:
        tx.remove_tags(KIND, provider.provider_id, [t.key for t in tx.tags_of(KIND, provider.provider_id)])
        tx.delete_saml_provider(provider.provider_id)
    call.runtime.changed()
    return {}


@operation("iam", "TagSAMLProvider")
def tag_saml_provider(call: Call, p: Params) -> Result:
    return idp.tag(call, p, KIND, ARN_PARAM, "iam:TagSAMLProvider", _get, _lock)


@operation("iam", "UntagSAMLProvider")
def untag_saml_provider(call: Call, p: Params) -> Result:
    return idp.untag(call, p, KIND, ARN_PARAM, "iam:UntagSAMLProvider", _get)


@operation("iam", "ListSAMLProviderTags")
def list_saml_provider_tags(call: Call, p: Params) -> Result:
    return idp.list_tags(call, p, KIND, ARN_PARAM, "iam:ListSAMLProviderTags", _get)


def stored_saml_providers(tx: Tx) -> list[SamlProvider]:
    """Every account's SAML providers (for `rolehop keys`: their private keys are sealed secrets)."""
    return [s for account in tx.list_accounts() for s in tx.saml_providers(account.account_id)]


def reseal_private_keys(rt: Runtime, provider: SamlProvider) -> tuple[SamlProvider, int]:
    """The provider with every private key another key sealed re-sealed with the ring's sealing key,
    and how many were."""
    keys: list[SamlPrivateKey] = []
    moved = 0
    for k in provider.private_keys:
        if key_id_of(k.sealed_key) != rt.ring.active_key_id:
            purpose = KEY_PURPOSE + k.key_id.encode()
            _kid, pem = rt.ring.open(k.sealed_key, purpose=purpose)
            k = replace(k, sealed_key=rt.ring.seal(pem, purpose=purpose, nonce=rt.random(12)))
            moved += 1
        keys.append(k)
    return replace(provider, private_keys=tuple(keys)), moved
