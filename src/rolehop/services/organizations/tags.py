"""Tags on the organization's accounts, OUs, root, policies and resource policy (TagResource,
UntagResource, ListTagsForResource), and `put_tags_from_params`, which the operations that create
them (CreateOrganizationalUnit, CreateAccount, CreatePolicy, InviteAccountToOrganization,
PutResourcePolicy) call with their `Tags` parameter.

The wire checks each key and value against the model (1-128 / 0-256 characters of letters, digits,
spaces and `_.:/=+-@`); here: keys starting with `aws:` are AWS's (InvalidInputException
INVALID_SYSTEM_TAGS_PARAMETER), a key given twice in one request is DUPLICATE_TAG_KEY, and a
resource holds at most 50 tags (ConstraintViolationException MAX_TAG_LIMIT_EXCEEDED): Organizations
User Guide, "Tagging AWS Organizations resources".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rolehop.core.entities import Tag
from rolehop.core.errors import ConstraintViolationException, InvalidInputException, TargetNotFoundException
from rolehop.core.ids import is_account_id
from rolehop.core.organization import Organization, OrgPolicy
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.paging import page
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.control_policies import DEFAULTS
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx

MAX_TAGS = 50
NOT_FOUND = (
    "We can't find a root, OU, account, policy or resource policy with the ResourceId that you specified."
)


def _system_key(key: str) -> InvalidInputException | None:
    if key.lower().startswith("aws:"):
        return InvalidInputException(
            f"You specified a tag key that is a system tag: {key}. Tag keys that start with aws: are "
            "reserved for AWS use.",
            reason="INVALID_SYSTEM_TAGS_PARAMETER",
        )
    return None


def validate_tags(tags_param: Sequence[dict[str, Any]] | None) -> list[Tag]:
    """The `Tags` parameter as tags, refused as Organizations refuses it."""
    tags = [Tag(str(t["Key"]), str(t.get("Value") or "")) for t in tags_param or []]
    seen: set[str] = set()
    for tag in tags:
        error = _system_key(tag.key)
        if error is not None:
            raise error
        if tag.key in seen:
            raise InvalidInputException(
                "Tag keys must be unique among the tags attached to the same entity.",
                reason="DUPLICATE_TAG_KEY",
            )
        seen.add(tag.key)
    return tags


def put_tags_from_params(tx: Tx, resource_id: str, tags_param: Sequence[dict[str, Any]] | None) -> None:
    """Validate a request's `Tags` and add them to the resource (a key it already has takes the new
    value); the resource may hold at most 50. Call inside the write transaction, after the
    resource is stored: a refusal then undoes the whole request."""
    tags = validate_tags(tags_param)
    if not tags:
        return
    keys = {t.key for t in tx.org_tags_of(resource_id)} | {t.key for t in tags}
    if len(keys) > MAX_TAGS:
        raise ConstraintViolationException(
            f"You have exceeded the number of tags allowed on this resource ({MAX_TAGS}).",
            reason="MAX_TAG_LIMIT_EXCEEDED",
        )
    tx.put_org_tags(resource_id, tags)


def tag_context(tags_param: Sequence[dict[str, Any]] | None) -> dict[str, str | list[str]]:
    """The condition keys of a request that tags (aws:TagKeys, aws:RequestTag/…)."""
    tags = tags_param or []
    context: dict[str, str | list[str]] = {"aws:TagKeys": [str(t["Key"]) for t in tags]}
    context.update({f"aws:RequestTag/{t['Key']}": str(t.get("Value") or "") for t in tags})
    return context


def policy_arn(org: Organization, policy: OrgPolicy) -> str:
    kind = policy.policy_type.lower()
    if policy.aws_managed:
        return f"arn:aws:organizations::aws:policy/{kind}/{policy.policy_id}"
    return org.resource_arn("policy", f"/{kind}/{policy.policy_id}")


def _aws_managed(tx: Tx, policy_id: str) -> OrgPolicy | None:
    found = tx.get_org_policy(policy_id)
    if found is not None:
        return found
    return next((p for p in DEFAULTS.values() if p.policy_id == policy_id), None)


def taggable(tx: Tx, org: Organization, resource_id: str) -> tuple[str, bool] | None:
    """(ARN, whether its tags may change) of a taggable resource of the organization, None when
    there is none with that ID. AWS-managed policies hold no tags and take none."""
    if is_account_id(resource_id):
        account = tx.get_account(resource_id)
        if account is None or not account.in_organization:
            return None
        return org.resource_arn("account", f"/{resource_id}"), True
    if resource_id == org.root_id:
        return org.resource_arn("root", f"/{resource_id}"), True
    if resource_id.startswith("ou-"):
        return (org.resource_arn("ou", f"/{resource_id}"), True) if tx.get_ou(resource_id) else None
    if resource_id.startswith("p-"):
        policy = _aws_managed(tx, resource_id)
        return (policy_arn(org, policy), not policy.aws_managed) if policy else None
    if resource_id.startswith("rp-"):
        found = tx.get_org_resource_policy()
        if found is None or found.policy_id != resource_id:
            return None
        return org.resource_arn("resourcepolicy", f"/{resource_id}"), True
    return None


def _resource_arn(call: Call, resource_id: str) -> Callable[[Organization], str]:
    def arn(org: Organization) -> str:
        with call.runtime.store.transaction() as tx:
            found = taggable(tx, org, resource_id)
        return found[0] if found else "*"

    return arn


def _target(tx: Tx, org: Organization, resource_id: str, *, change: bool) -> None:
    found = taggable(tx, org, resource_id)
    if found is None:
        raise TargetNotFoundException(NOT_FOUND)
    if change and not found[1]:
        raise InvalidInputException(
            "You specified a policy that is managed by AWS and can't be modified.", reason="IMMUTABLE_POLICY"
        )


@operation("organizations", "TagResource")
def tag_resource(call: Call, p: Params) -> Result:
    resource_id = p["ResourceId"]
    context = tag_context(p.get("Tags"))
    org = management_only(
        call, "organizations:TagResource", _resource_arn(call, resource_id), context=context
    )
    with call.runtime.store.transaction() as tx:
        _target(tx, org, resource_id, change=True)
        put_tags_from_params(tx, resource_id, p.get("Tags"))
    call.runtime.changed()
    return {}


@operation("organizations", "UntagResource")
def untag_resource(call: Call, p: Params) -> Result:
    resource_id = p["ResourceId"]
    keys = [str(k) for k in p.get("TagKeys") or []]
    org = management_only(
        call, "organizations:UntagResource", _resource_arn(call, resource_id), context={"aws:TagKeys": keys}
    )
    for key in keys:
        error = _system_key(key)
        if error is not None:
            raise error
    with call.runtime.store.transaction() as tx:
        _target(tx, org, resource_id, change=True)
        tx.delete_org_tags(resource_id, keys)
    call.runtime.changed()
    return {}


@operation("organizations", "ListTagsForResource")
def list_tags_for_resource(call: Call, p: Params) -> Result:
    resource_id = p["ResourceId"]
    org = management_only(call, "organizations:ListTagsForResource", _resource_arn(call, resource_id))
    with call.runtime.store.transaction() as tx:
        _target(tx, org, resource_id, change=False)
        tags = tx.org_tags_of(resource_id)
    found, more = page(tags, p, lambda t: t.key)
    return {"Tags": [{"Key": t.key, "Value": t.value} for t in found], **more}
