"""Tags and permissions boundaries of users and roles: Tag/Untag/List{User,Role}Tags and
Put/Delete{User,Role}PermissionsBoundary, one implementation for both."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from rolehop.core.errors import NoSuchEntity
from rolehop.services.call import Call
from rolehop.services.common import add_tags, existing, paginate, request_tag_context, tag_shapes, tags_param
from rolehop.services.registry import Params, Result, operation

Kind = Literal["user", "role"]


def _tag(call: Call, p: Params, kind: Kind) -> Result:
    tags = tags_param(p)
    target = existing(
        call, kind, p[f"{kind.capitalize()}Name"], f"iam:Tag{kind.capitalize()}", request_tag_context(tags)
    )
    with call.runtime.store.transaction() as tx:
        add_tags(tx, kind, target.unique_id, tags)
    call.runtime.changed()
    return {}


def _untag(call: Call, p: Params, kind: Kind) -> Result:
    keys = list(p["TagKeys"])
    target = existing(
        call, kind, p[f"{kind.capitalize()}Name"], f"iam:Untag{kind.capitalize()}", {"aws:TagKeys": keys}
    )
    with call.runtime.store.transaction() as tx:
        present = {t.key.lower(): t.key for t in tx.tags_of(kind, target.unique_id)}
        tx.remove_tags(kind, target.unique_id, [present[k.lower()] for k in keys if k.lower() in present])
    call.runtime.changed()
    return {}


def _list_tags(call: Call, p: Params, kind: Kind) -> Result:
    target = existing(call, kind, p[f"{kind.capitalize()}Name"], f"iam:List{kind.capitalize()}Tags")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of(kind, target.unique_id)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}


def _put_boundary(call: Call, p: Params, kind: Kind) -> Result:
    boundary = p["PermissionsBoundary"]
    action = f"iam:Put{kind.capitalize()}PermissionsBoundary"
    target = existing(
        call, kind, p[f"{kind.capitalize()}Name"], action, {"iam:PermissionsBoundary": boundary}
    )
    with call.runtime.store.transaction() as tx:
        if tx.get_policy(boundary) is None:
            raise NoSuchEntity(f"Policy {boundary} does not exist or is not attachable.")
        tx.update_identity(replace(target, boundary_arn=boundary))
    call.runtime.changed()
    return {}


def _delete_boundary(call: Call, p: Params, kind: Kind) -> Result:
    action = f"iam:Delete{kind.capitalize()}PermissionsBoundary"
    target = existing(call, kind, p[f"{kind.capitalize()}Name"], action)
    with call.runtime.store.transaction() as tx:
        tx.update_identity(replace(target, boundary_arn=None))
    call.runtime.changed()
    return {}


def _register(kind: Kind) -> None:
    title = kind.capitalize()
    operation("iam", f"Tag{title}")(lambda call, p: _tag(call, p, kind))
    operation("iam", f"Untag{title}")(lambda call, p: _untag(call, p, kind))
    operation("iam", f"List{title}Tags")(lambda call, p: _list_tags(call, p, kind))
    operation("iam", f"Put{title}PermissionsBoundary")(lambda call, p: _put_boundary(call, p, kind))
    operation("iam", f"Delete{title}PermissionsBoundary")(lambda call, p: _delete_boundary(call, p, kind))


_register("user")
_register("role")
