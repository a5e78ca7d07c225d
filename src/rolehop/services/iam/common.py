"""Helpers shared by IAM operations: pagination, names and paths, tags, lookups that raise."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar

from rolehop.core import arn
from rolehop.core.entities import Identity, IdentityKind, ManagedPolicy, Tag
from rolehop.core.errors import InvalidInput, LimitExceeded, NoSuchEntity, ValidationError
from rolehop.core.ids import unique_id
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.ports.store import Tx

T = TypeVar("T")

MAX_TAGS = 50
# the parameter that names a user, group or role in its operations
NAME_PARAM: Mapping[IdentityKind, str] = MappingProxyType(
    {"user": "UserName", "group": "GroupName", "role": "RoleName"}
)


def paginate(
    items: Sequence[T], params: dict[str, Any], key: Callable[[T], str]
) -> tuple[list[T], dict[str, Any]]:
    """IAM's Marker/MaxItems/IsTruncated paging over a list sorted by `key`."""
    max_items = int(params.get("MaxItems") or 100)
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise ValidationError("Invalid Marker.") from e
        while start < len(items) and key(items[start]) <= after:
            start += 1
    page = list(items[start : start + max_items])
    more: dict[str, Any] = {"IsTruncated": start + max_items < len(items)}
    if more["IsTruncated"]:
        more["Marker"] = base64.urlsafe_b64encode(key(page[-1]).encode()).decode()
    return page, more


RESERVED_PATHS = ("/aws-service-role/", "/aws-reserved/", "/service-role/aws-")


def check_path(path: str | None) -> str:
    path = path or "/"
    if not (path.startswith("/") and path.endswith("/")) or "//" in path:
        raise ValidationError(
            "The specified value for path is invalid. It must begin and end with / and contain only "
            "alphanumeric characters and/or / characters."
        )
    return path


def check_new_path(path: str | None) -> str:
    """A path for a new or moved identity or policy: AWS keeps some prefixes for itself (service-linked
    roles are exempt from SCPs, so a customer path there would escape them)."""
    path = check_path(path)
    if path.startswith(RESERVED_PATHS):
        raise InvalidInput(f"The path {path} is reserved for AWS and cannot be used.")
    return path


def require(tx: Tx, kind: IdentityKind, account_id: str, name: str) -> Identity:
    found = tx.get_identity(kind, account_id, name)
    if found is None:
        raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
    return found


def hold(tx: Tx, identity: Identity) -> Identity:
    """Locks the identity for the rest of the transaction (see Tx) and returns it as it is now; an
    identity deleted since it was read is NoSuchEntity."""
    found = tx.lock_identity(identity.unique_id)
    if found is None:
        raise NoSuchEntity(f"The {identity.kind} with name {identity.name} cannot be found.")
    return found


def attachable_policy(tx: Tx, policy_arn: str, account_id: str) -> ManagedPolicy:
    """The managed policy an identity of `account_id` may hold. Another account's policy answers as a
    missing one: no answer may tell which policy names another account holds."""
    policy = tx.get_policy(policy_arn)
    if policy is None or not policy.attachable_in(account_id):
        raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
    return policy


def tags_param(params: dict[str, Any]) -> list[Tag]:
    tags = [Tag(t["Key"], t.get("Value", "")) for t in params.get("Tags") or []]
    keys = [t.key.lower() for t in tags]
    if len(set(keys)) != len(keys):
        raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    return tags


def add_tags(tx: Tx, kind: str, resource_id: str, tags: list[Tag]) -> None:
    existing = {t.key.lower(): t for t in tx.tags_of(kind, resource_id)}
    # a key that differs only in case replaces the old one (IAM tag keys are case-insensitive)
    replaced = [existing[t.key.lower()].key for t in tags if t.key.lower() in existing]
    if len(existing) - len(replaced) + len(tags) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    tx.remove_tags(kind, resource_id, replaced)
    tx.set_tags(kind, resource_id, tags)


def remove_tag_keys(tx: Tx, kind: str, resource_id: str, keys: list[str]) -> None:
    """Removes the tags named by `keys`, whatever their case (IAM tag keys are case-insensitive);
    keys the resource does not have are ignored, as IAM ignores them."""
    present = {t.key.lower(): t.key for t in tx.tags_of(kind, resource_id)}
    tx.remove_tags(kind, resource_id, [present[k.lower()] for k in keys if k.lower() in present])


def tag_shapes(tags: list[Tag]) -> list[dict[str, str]]:
    return [{"Key": t.key, "Value": t.value} for t in tags]


def authorize_tagged(
    call: Call, action: str, resource_arn: str, tags: list[Tag], context: dict[str, str | list[str]] | None
) -> None:
    """Authorizes `action` on a resource whose tags are aws:ResourceTag/… in the request context."""
    full: dict[str, str | list[str]] = {f"aws:ResourceTag/{t.key}": t.value for t in tags}
    full.update(context or {})
    authorize(call, action, resource_arn, context=full)


def existing(
    call: Call, kind: IdentityKind, name: str, action: str, context: dict[str, str | list[str]] | None = None
) -> Identity:
    """Authorize `action` on the identity's ARN, then return it (NoSuchEntity only after authorization)."""
    with call.runtime.store.transaction() as tx:
        found = tx.get_identity(kind, call.caller.account_id, name)
        tags = tx.tags_of(kind, found.unique_id) if found else []
    target = found.arn if found else arn.iam_arn(call.caller.account_id, kind, "/", name)
    authorize_tagged(call, action, target, tags, context)
    if found is None:
        raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
    return found


def request_tag_context(tags: list[Tag]) -> dict[str, str | list[str]]:
    """aws:RequestTag/… and aws:TagKeys for operations that set tags."""
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{t.key}": t.value for t in tags}
    if tags:
        context["aws:TagKeys"] = [t.key for t in tags]
    return context


def create_identity(
    call: Call, kind: IdentityKind, prefix: str, p: dict[str, Any], **extra: Any
) -> tuple[Identity, list[Tag]]:
    """CreateUser / CreateRole: path, tags and permissions boundary checked and authorized as IAM does
    (a boundary set on creation also needs Put{User,Role}PermissionsBoundary), then stored."""

    title = kind.capitalize()
    path = check_new_path(p.get("Path"))
    name = p[f"{title}Name"]
    tags = tags_param(p)
    boundary = p.get("PermissionsBoundary")
    target = arn.iam_arn(call.caller.account_id, kind, path, name)
    context = request_tag_context(tags)
    if boundary:
        context["iam:PermissionsBoundary"] = boundary
    authorize(call, f"iam:Create{title}", target, context=context)
    if boundary:
        authorize(
            call, f"iam:Put{title}PermissionsBoundary", target, context={"iam:PermissionsBoundary": boundary}
        )
    rt = call.runtime
    identity = Identity(
        kind,
        unique_id(prefix, rt.random(11)),
        call.caller.account_id,
        name,
        path,
        call.now,
        boundary_arn=boundary,
        **extra,
    )
    with rt.store.transaction() as tx:
        if boundary:
            attachable_policy(tx, boundary, identity.account_id)
        tx.insert_identity(identity)
        add_tags(tx, kind, identity.unique_id, tags)
    rt.changed()
    return identity, tags


def rename_identity(call: Call, kind: IdentityKind, p: dict[str, Any]) -> None:
    """UpdateUser / UpdateGroup: a new name or path must be allowed on the old ARN and the new one."""
    title = kind.capitalize()
    action = f"iam:Update{title}"
    current = existing(call, kind, p[f"{title}Name"], action)
    new_name = p.get(f"New{title}Name") or current.name
    new_path = check_new_path(p.get("NewPath") or current.path)
    if (new_name, new_path) != (current.name, current.path):
        authorize(call, action, arn.iam_arn(call.caller.account_id, kind, new_path, new_name))
    with call.runtime.store.transaction() as tx:
        tx.update_identity(replace(current, name=new_name, path=new_path))
    call.runtime.changed()
