"""OpenID Connect identity providers: Create/Get/List/Delete, client IDs, thumbprints and tags.

A provider's ARN is arn:aws:iam::ACCOUNT:oidc-provider/ followed by its URL without the scheme (host,
port if any, path), which is also the prefix of its condition keys in trust policies (`…:aud`,
`…:sub`). Its URL is https://, except that a dev-mode server also takes an http:// loopback issuer
(http://127.0.0.1:PORT/…, http://localhost…) so that local identity providers and tests work.
AssumeRoleWithWebIdentity finds a provider with `Tx.get_oidc_provider(arn)`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from rolehop.core.errors import EntityAlreadyExists, InvalidInput, LimitExceeded
from rolehop.services.iam import identity_providers as idp
from rolehop.services.iam.common import add_tags, request_tag_context, tag_shapes, tags_param
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.federation import OidcProvider
from rolehop.services.ports.store import Tx

KIND: idp.ProviderKind = "oidc-provider"
ARN_PARAM = "OpenIDConnectProviderArn"
MAX_PROVIDERS = 100  # OpenIdConnectProvidersPerAccount
MAX_CLIENT_IDS = 100  # ClientIdsPerOpenIdConnectProvider
MAX_THUMBPRINTS = 5
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")


def _get(tx: Tx, provider_arn: str) -> OidcProvider | None:
    return tx.get_oidc_provider(provider_arn)


def _lock(tx: Tx, provider_arn: str) -> OidcProvider | None:
    return tx.get_oidc_provider(provider_arn, lock=True)


def provider_name(url: str, dev: bool) -> str:
    """The URL without its scheme (the ARN's resource and the condition keys' prefix); InvalidInput
    for anything but an https:// URL with a host and no query, fragment or credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise InvalidInput("Invalid Open ID Connect Provider URL") from e
    loopback = dev and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if (
        (parts.scheme != "https" and not loopback)
        or not parts.hostname
        or "?" in url
        or "#" in url
        or "@" in parts.netloc
        or parts.netloc.endswith(":")
        or any(c.isspace() for c in url)
    ):
        raise InvalidInput("Invalid Open ID Connect Provider URL")
    if port is not None and not parts.netloc.endswith(f":{port}"):
        raise InvalidInput("Invalid Open ID Connect Provider URL")
    return (parts.netloc + parts.path).rstrip("/")


def _thumbprints(values: list[str]) -> tuple[str, ...]:
    if len(values) > MAX_THUMBPRINTS:
        raise InvalidInput(f"Thumbprint list must contain fewer than {MAX_THUMBPRINTS + 1} entries.")
    for value in values:
        if not _THUMBPRINT.fullmatch(value):
            raise InvalidInput(f"Thumbprint {value} must be 40 hexadecimal characters (a SHA-1 fingerprint).")
    return tuple(dict.fromkeys(values))


def _client_ids(values: list[str]) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(values))
    if len(ids) > MAX_CLIENT_IDS:
        raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    return ids


def _provider_id(call: Call) -> str:
    return base64.b32encode(call.runtime.random(15)).decode()


@operation("iam", "CreateOpenIDConnectProvider")
def create_open_id_connect_provider(call: Call, p: Params) -> Result:
    account_id = call.caller.account_id
    url = p["Url"]
    name = provider_name(url, call.runtime.settings.dev)
    provider_arn = idp.provider_arn(account_id, KIND, name)
    tags = tags_param(p)
    context = request_tag_context(tags) | idp.propagation_context(p)
    authorize(call, "iam:CreateOpenIDConnectProvider", provider_arn, context=context)
    idp.no_identity_center(p)
    provider = OidcProvider(
        provider_id=_provider_id(call),
        account_id=account_id,
        arn=provider_arn,
        url=url,
        client_ids=_client_ids(list(p.get("ClientIDList") or [])),
        thumbprints=_thumbprints(list(p.get("ThumbprintList") or [])),
        created_at=call.now,
        context_provider=idp.context_provider(p["ContextProvider"]) if p.get("ContextProvider") else None,
    )
    with call.runtime.store.transaction() as tx:
        tx.lock_account(account_id)  # the per-account quota is checked one writer at a time
        if len(tx.oidc_providers(account_id)) >= MAX_PROVIDERS:
            raise LimitExceeded(f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS}")
        if tx.get_oidc_provider(provider_arn) is not None:
            raise _exists(url)
        tx.insert_oidc_provider(provider)
        add_tags(tx, KIND, provider.provider_id, tags)
    call.runtime.changed()
    result: dict[str, Any] = {"OpenIDConnectProviderArn": provider_arn}
    if tags:
        result["Tags"] = tag_shapes(tags)
    return result


def _exists(url: str) -> EntityAlreadyExists:
    return EntityAlreadyExists(f"Provider with url {url} already exists.")


@operation("iam", "GetOpenIDConnectProvider")
def get_open_id_connect_provider(call: Call, p: Params) -> Result:
    provider = idp.find(call, KIND, p[ARN_PARAM], "iam:GetOpenIDConnectProvider", _get)
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of(KIND, provider.provider_id)
    return {
        "Url": provider.arn.split(":oidc-provider/", 1)[1],
        "ClientIDList": list(provider.client_ids),
        "ThumbprintList": list(provider.thumbprints),
        "CreateDate": provider.created_at,
        "Tags": tag_shapes(tags),
        **idp.context_shape(provider.context_provider),
    }


@operation("iam", "ListOpenIDConnectProviders")
def list_open_id_connect_providers(call: Call, p: Params) -> Result:
    account_id = call.caller.account_id
    authorize(call, "iam:ListOpenIDConnectProviders", idp.provider_arn(account_id, KIND, "*"))
    with call.runtime.store.transaction() as tx:
        providers = tx.oidc_providers(account_id)
    return {"OpenIDConnectProviderList": [{"Arn": o.arn} for o in providers]}


@operation("iam", "DeleteOpenIDConnectProvider")
def delete_open_id_connect_provider(call: Call, p: Params) -> Result:
    provider = idp.find(call, KIND, p[ARN_PARAM], "iam:DeleteOpenIDConnectProvider", _get)
    with call.runtime.store.transaction() as tx:
        tx.remove_tags(KIND, provider.provider_id, [t.key for t in tx.tags_of(KIND, provider.provider_id)])
        tx.delete_oidc_provider(provider.provider_id)
    call.runtime.changed()
    return {}


def _change(
    call: Call, p: Params, action: str, change: Any, context: dict[str, str | list[str]] | None = None
) -> Result:
    """Applies `change` (provider -> provider) to the provider as it is now, one writer at a time."""
    idp.find(call, KIND, p[ARN_PARAM], action, _get, context)
    with call.runtime.store.transaction() as tx:
        current = _lock(tx, p[ARN_PARAM])
        if current is None:
            raise idp.not_found(KIND, p[ARN_PARAM])
        tx.update_oidc_provider(change(current))
    call.runtime.changed()
    return {}


@operation("iam", "AddClientIDToOpenIDConnectProvider")
def add_client_id_to_open_id_connect_provider(call: Call, p: Params) -> Result:
    client_id = p["ClientID"]
    return _change(
        call,
        p,
        "iam:AddClientIDToOpenIDConnectProvider",
        lambda o: replace(o, client_ids=_client_ids([*o.client_ids, client_id])),
    )


@operation("iam", "RemoveClientIDFromOpenIDConnectProvider")
def remove_client_id_from_open_id_connect_provider(call: Call, p: Params) -> Result:
    client_id = p["ClientID"]
    return _change(
        call,
        p,
        "iam:RemoveClientIDFromOpenIDConnectProvider",
        lambda o: replace(o, client_ids=tuple(c for c in o.client_ids if c != client_id)),
    )


@operation("iam", "UpdateOpenIDConnectProviderThumbprint")
def update_open_id_connect_provider_thumbprint(call: Call, p: Params) -> Result:
    thumbprints = _thumbprints(list(p["ThumbprintList"]))
    return _change(
        call,
        p,
        "iam:UpdateOpenIDConnectProviderThumbprint",
        lambda o: replace(o, thumbprints=thumbprints),
    )


@operation("iam", "UpdateOpenIDConnectProvider")
def update_open_id_connect_provider(call: Call, p: Params) -> Result:
    """Sets or removes the context provider (trusted identity propagation); an IAM Identity Center
    instance cannot be associated, as rolehop serves none."""
    return _change(
        call,
        p,
        "iam:UpdateOpenIDConnectProvider",
        lambda o: replace(o, context_provider=idp.context_change(p, o.context_provider)),
        idp.propagation_context(p),
    )


@operation("iam", "TagOpenIDConnectProvider")
def tag_open_id_connect_provider(call: Call, p: Params) -> Result:
    return idp.tag(call, p, KIND, ARN_PARAM, "iam:TagOpenIDConnectProvider", _get, _lock)


@operation("iam", "UntagOpenIDConnectProvider")
def untag_open_id_connect_provider(call: Call, p: Params) -> Result:
    return idp.untag(call, p, KIND, ARN_PARAM, "iam:UntagOpenIDConnectProvider", _get)


@operation("iam", "ListOpenIDConnectProviderTags")
def list_open_id_connect_provider_tags(call: Call, p: Params) -> Result:
    return idp.list_tags(call, p, KIND, ARN_PARAM, "iam:ListOpenIDConnectProviderTags", _get)
