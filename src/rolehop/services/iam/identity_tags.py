"""Tags of users and roles: Tag/Untag/List{User,Role}Tags, one implementation for both (policy
tags live with the policies)."""

from __future__ import annotations

from typing import Literal

from rolehop.services.iam.common import (
    NAME_PARAM,
    add_tags,
    existing,
    hold,
    paginate,
    remove_tag_keys,
    request_tag_context,
    tag_shapes,
    tags_param,
)
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation

Taggable = Literal["user", "role"]


def _tag(call: Call, p: Params, kind: Taggable, action: str) -> Result:
    tags = tags_param(p)
    target = existing(call, kind, p[NAME_PARAM[kind]], action, request_tag_context(tags))
    with call.runtime.store.transaction() as tx:
        hold(tx, target)  # the 50-tag quota is checked and filled one writer at a time
        add_tags(tx, kind, target.unique_id, tags)
    call.runtime.changed()
    return {}


def _untag(call: Call, p: Params, kind: Taggable, action: str) -> Result:
    keys = list(p["TagKeys"])
    target = existing(call, kind, p[NAME_PARAM[kind]], action, {"aws:TagKeys": keys})
    with call.runtime.store.transaction() as tx:
        remove_tag_keys(tx, kind, target.unique_id, keys)
    call.runtime.changed()
    return {}


def _list_tags(call: Call, p: Params, kind: Taggable, action: str) -> Result:
    target = existing(call, kind, p[NAME_PARAM[kind]], action)
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of(kind, target.unique_id)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}


@operation("iam", "TagUser")
def tag_user(call: Call, p: Params) -> Result:
    return _tag(call, p, "user", "iam:TagUser")


@operation("iam", "UntagUser")
def untag_user(call: Call, p: Params) -> Result:
    return _untag(call, p, "user", "iam:UntagUser")


@operation("iam", "ListUserTags")
def list_user_tags(call: Call, p: Params) -> Result:
    return _list_tags(call, p, "user", "iam:ListUserTags")


@operation("iam", "TagRole")
def tag_role(call: Call, p: Params) -> Result:
    return _tag(call, p, "role", "iam:TagRole")


@operation("iam", "UntagRole")
def untag_role(call: Call, p: Params) -> Result:
    return _untag(call, p, "role", "iam:UntagRole")


@operation("iam", "ListRoleTags")
def list_role_tags(call: Call, p: Params) -> Result:
    return _list_tags(call, p, "role", "iam:ListRoleTags")
