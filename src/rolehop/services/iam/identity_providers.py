"""What the OIDC and SAML provider operations share: their ARNs, finding a provider after
authorizing on its ARN, their tags (Tag/Untag/List{OpenIDConnect,SAML}ProviderTags) and their
context provider (trusted identity propagation; IAM Identity Center instances are not served)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar

from rolehop.core.arn import PARTITION
from rolehop.core.errors import InvalidInput, NoSuchEntity
from rolehop.services.iam.common import (
    add_tags,
    authorize_tagged,
    paginate,
    remove_tag_keys,
    request_tag_context,
    tag_shapes,
    tags_param,
)
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result
from rolehop.services.ports.store import Tx

ProviderKind = Literal["oidc-provider", "saml-provider"]
_ARN = re.compile(r"arn:aws:iam::(\d{12}):(oidc-provider|saml-provider)/(.+)")


class Provider(Protocol):
    @property
    def provider_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...


P = TypeVar("P", bound=Provider)


def provider_arn(account_id: str, kind: ProviderKind, name: str) -> str:
    """An OIDC provider's `name` is its URL without the scheme; a SAML provider's its name."""
    return f"arn:{PARTITION}:iam::{account_id}:{kind}/{name}"


def check_arn(text: str, kind: ProviderKind) -> str:
    m = _ARN.fullmatch(text)
    if m is None or m.group(2) != kind:
        raise InvalidInput(f"ARN {text} is not valid.")
    return text


def not_found(kind: ProviderKind, provider_arn: str) -> NoSuchEntity:
    what = "OpenIDConnect Provider" if kind == "oidc-provider" else "SAMLProvider"
    return NoSuchEntity(f"{what} not found for arn {provider_arn}")


def find(
    call: Call,
    kind: ProviderKind,
    provider_arn: str,
    action: str,
    get: Callable[[Tx, str], P | None],
    context: dict[str, str | list[str]] | None = None,
) -> P:
    """Authorizes `action` on the provider's ARN (with its tags as aws:ResourceTag/…), then returns
    the provider; NoSuchEntity only after authorization, and for another account's ARN."""
    check_arn(provider_arn, kind)
    with call.runtime.store.transaction() as tx:
        found = get(tx, provider_arn)
        if found is not None and found.account_id != call.caller.account_id:
            found = None
        tags = tx.tags_of(kind, found.provider_id) if found is not None else []
    authorize_tagged(call, action, provider_arn, tags, context)
    if found is None:
        raise not_found(kind, provider_arn)
    return found


def tag(
    call: Call,
    p: Params,
    kind: ProviderKind,
    arn_param: str,
    action: str,
    get: Callable[[Tx, str], P | None],
    lock: Callable[[Tx, str], P | None],
) -> Result:
    tags = tags_param(p)
    found = find(call, kind, p[arn_param], action, get, request_tag_context(tags))
    with call.runtime.store.transaction() as tx:
        if lock(tx, p[arn_param]) is None:  # the 50-tag quota is checked one writer at a time
            raise not_found(kind, p[arn_param])
        add_tags(tx, kind, found.provider_id, tags)
    call.runtime.changed()
    return {}


def untag(
    call: Call, p: Params, kind: ProviderKind, arn_param: str, action: str, get: Callable[[Tx, str], P | None]
) -> Result:
    keys = list(p["TagKeys"])
    found = find(call, kind, p[arn_param], action, get, {"aws:TagKeys": keys})
    with call.runtime.store.transaction() as tx:
        remove_tag_keys(tx, kind, found.provider_id, keys)
    call.runtime.changed()
    return {}


def list_tags(
    call: Call, p: Params, kind: ProviderKind, arn_param: str, action: str, get: Callable[[Tx, str], P | None]
) -> Result:
    found = find(call, kind, p[arn_param], action, get)
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of(kind, found.provider_id)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}


# trusted identity propagation: a provider's ContextProvider (IAM Identity Center is not served)
_CONTEXT_KEY = re.compile(r"[A-Za-z0-9_.:/=+\-@#]+( [A-Za-z0-9_.:/=+\-@#]+)*")


def _context_key(value: str) -> str:
    if not _CONTEXT_KEY.fullmatch(value):
        raise InvalidInput(
            f"Invalid context provider key {value!r}: only ASCII letters, numbers, single spaces and "
            "_ . : / = + - @ # are allowed, and it can't start or end with a space."
        )
    return value


def context_provider(value: dict[str, Any]) -> str:
    """A ContextProvider parameter, checked, as the JSON a provider stores."""
    if "SubjectTypeValue" in value and "SubjectTypeSourceKey" in value:
        raise InvalidInput("Specify either SubjectTypeValue or SubjectTypeSourceKey, but not both.")
    checked: dict[str, Any] = {"SubjectSourceKey": _context_key(value["SubjectSourceKey"])}
    if "KeyDefinitionList" in value:
        checked["KeyDefinitionList"] = [
            {"SourceKey": _context_key(d["SourceKey"])}
            | ({"TargetKey": _context_key(d["TargetKey"])} if "TargetKey" in d else {})
            for d in value["KeyDefinitionList"]
        ]
    if "SubjectTypeValue" in value:
        checked["SubjectTypeValue"] = value["SubjectTypeValue"]
    if "SubjectTypeSourceKey" in value:
        checked["SubjectTypeSourceKey"] = _context_key(value["SubjectTypeSourceKey"])
    return json.dumps(checked)


def no_identity_center(p: Params) -> None:
    """rolehop serves no IAM Identity Center instance, so no ARN names one."""
    if p.get("IdentityCenterInstanceArn"):
        raise InvalidInput(f"IAM Identity Center instance {p['IdentityCenterInstanceArn']} does not exist.")


def context_change(p: Params, current: str | None) -> str | None:
    """The context provider after an Update{OpenIDConnect,SAML}Provider's ContextProvider /
    RemoveContextProvider (one or the other)."""
    no_identity_center(p)
    if p.get("ContextProvider") is not None and p.get("RemoveContextProvider"):
        raise InvalidInput("Specify either ContextProvider or RemoveContextProvider, but not both.")
    if p.get("ContextProvider") is not None:
        return context_provider(p["ContextProvider"])
    if p.get("RemoveContextProvider"):
        return None
    return current


def propagation_context(p: Params) -> dict[str, str | list[str]]:
    """iam:EnableIdentityPropagation for a request that sets a context provider."""
    return {"iam:EnableIdentityPropagation": "true"} if p.get("ContextProvider") is not None else {}


def context_shape(stored: str | None) -> dict[str, Any]:
    return {"ContextProvider": json.loads(stored)} if stored else {}
