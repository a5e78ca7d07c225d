"""Inline policies of users, groups and roles: Put/Get/Delete/List{User,Group,Role}Policy,
one implementation for the three."""

from __future__ import annotations

from urllib.parse import quote

from rolehop.core.entities import IdentityKind, InlinePolicy
from rolehop.core.errors import NoSuchEntity
from rolehop.core.policy.validate import (
    GROUP_INLINE_MAX,
    ROLE_INLINE_MAX,
    USER_INLINE_MAX,
    inline_policy_too_large,
    policy_size,
)
from rolehop.services.call import Call
from rolehop.services.common import existing, paginate
from rolehop.services.policy_documents import checked_document, decoded
from rolehop.services.registry import Params, Result, operation

_MAX_CHARS: dict[IdentityKind, int] = {
    "user": USER_INLINE_MAX,
    "group": GROUP_INLINE_MAX,
    "role": ROLE_INLINE_MAX,
}


def _put(call: Call, p: Params, kind: IdentityKind) -> Result:
    title = kind.capitalize()
    owner = existing(call, kind, p[f"{title}Name"], f"iam:Put{title}Policy")
    document = checked_document(decoded(p["PolicyDocument"]), "identity", None, managed=False)
    with call.runtime.store.transaction() as tx:
        # the quota covers all of an identity's inline policies together
        others = [x for x in tx.list_inline(kind, owner.unique_id) if x.name != p["PolicyName"]]
        if sum(policy_size(x.document) for x in others) + policy_size(document) > _MAX_CHARS[kind]:
            raise inline_policy_too_large(kind, owner.name, _MAX_CHARS[kind])
        tx.put_inline(InlinePolicy(kind, owner.unique_id, p["PolicyName"], document))
    call.runtime.changed()
    return {}


def _get(call: Call, p: Params, kind: IdentityKind) -> Result:
    title = kind.capitalize()
    owner = existing(call, kind, p[f"{title}Name"], f"iam:Get{title}Policy")
    with call.runtime.store.transaction() as tx:
        found = tx.get_inline(kind, owner.unique_id, p["PolicyName"])
    if found is None:
        raise NoSuchEntity(f"The {kind} policy with name {p['PolicyName']} cannot be found.")
    return {
        f"{title}Name": owner.name,
        "PolicyName": found.name,
        "PolicyDocument": quote(found.document, safe=""),
    }


def _delete(call: Call, p: Params, kind: IdentityKind) -> Result:
    title = kind.capitalize()
    owner = existing(call, kind, p[f"{title}Name"], f"iam:Delete{title}Policy")
    with call.runtime.store.transaction() as tx:
        if tx.get_inline(kind, owner.unique_id, p["PolicyName"]) is None:
            raise NoSuchEntity(f"The {kind} policy with name {p['PolicyName']} cannot be found.")
        tx.delete_inline(kind, owner.unique_id, p["PolicyName"])
    call.runtime.changed()
    return {}


def _list(call: Call, p: Params, kind: IdentityKind) -> Result:
    title = kind.capitalize()
    owner = existing(call, kind, p[f"{title}Name"], f"iam:List{title}Policies")
    with call.runtime.store.transaction() as tx:
        names = [x.name for x in tx.list_inline(kind, owner.unique_id)]
    page, more = paginate(names, p, key=lambda n: n)
    return {"PolicyNames": page, **more}


def _register(kind: IdentityKind) -> None:
    title = kind.capitalize()
    operation("iam", f"Put{title}Policy")(lambda call, p: _put(call, p, kind))
    operation("iam", f"Get{title}Policy")(lambda call, p: _get(call, p, kind))
    operation("iam", f"Delete{title}Policy")(lambda call, p: _delete(call, p, kind))
    operation("iam", f"List{title}Policies")(lambda call, p: _list(call, p, kind))


for _kind in ("user", "group", "role"):
    _register(_kind)
