"""Managed policies and their versions: Create/Get/Delete/ListPolicies, Create/Get/Delete/
ListPolicyVersions, SetDefaultPolicyVersion, Tag/Untag/ListPolicyTags. AWS-managed policies are read
here too (they are stored by admin.bootstrap); attaching any of them is in policy_attachments."""

from __future__ import annotations

from dataclasses import replace

from rolehop.core import arn
from rolehop.core.entities import ManagedPolicy, PolicyVersion
from rolehop.core.errors import DeleteConflict, InvalidInput, LimitExceeded, NoSuchEntity
from rolehop.core.ids import POLICY_PREFIX, unique_id
from rolehop.core.policy.validate import MANAGED_POLICY_MAX
from rolehop.services.iam.common import (
    add_tags,
    check_new_path,
    check_path,
    paginate,
    remove_tag_keys,
    request_tag_context,
    tag_shapes,
    tags_param,
)
from rolehop.services.iam.policy_documents import checked_document, checked_policy_arn, decoded
from rolehop.services.iam.shapes import policy_shape, version_shape
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx

MAX_VERSIONS = 5


def _not_found(policy_arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {policy_arn} was not found.")


def existing_policy(call: Call, policy_arn: str, action: str) -> ManagedPolicy:
    checked_policy_arn(policy_arn)
    authorize(call, action, policy_arn)
    with call.runtime.store.transaction() as tx:
        policy = tx.get_policy(policy_arn, counted_in=call.caller.account_id)
    if policy is None:
        raise _not_found(policy_arn)
    return policy


def _hold(tx: Tx, policy: ManagedPolicy) -> ManagedPolicy:
    """Locks the policy for the rest of the transaction (see Tx) and returns it as it is now: its
    versions are counted, numbered and deleted one writer at a time."""
    current = tx.lock_policy(policy.policy_id)
    if current is None:
        raise _not_found(policy.arn)
    return current


def _no_version(policy: ManagedPolicy, version_id: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {policy.arn} version {version_id} does not exist or is not attachable.")


def _customer(policy: ManagedPolicy) -> ManagedPolicy:
    if policy.account_id is None:
        raise InvalidInput(f"Cannot modify AWS-managed policy {policy.arn}.")
    return policy


@operation("iam", "CreatePolicy")
def create_policy(call: Call, p: Params) -> Result:
    path = check_new_path(p.get("Path"))
    account = call.caller.account_id
    policy_arn = arn.iam_arn(account, "policy", path, p["PolicyName"])
    tags = tags_param(p)
    authorize(call, "iam:CreatePolicy", policy_arn, context=request_tag_context(tags))
    document = checked_document(decoded(p["PolicyDocument"]), "identity", MANAGED_POLICY_MAX)
    rt = call.runtime
    policy = ManagedPolicy(
        unique_id(POLICY_PREFIX, rt.random(11)),
        policy_arn,
        account,
        p["PolicyName"],
        path,
        "v1",
        call.now,
        call.now,
        description=p.get("Description"),
    )
    with rt.store.transaction() as tx:
        tx.insert_policy(policy, PolicyVersion(policy.policy_id, "v1", document, call.now))
        add_tags(tx, "policy", policy.policy_id, tags)
    rt.changed()
    return {"Policy": policy_shape(policy, tags)}


@operation("iam", "GetPolicy")
def get_policy(call: Call, p: Params) -> Result:
    policy = existing_policy(call, p["PolicyArn"], "iam:GetPolicy")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of("policy", policy.policy_id)
    return {"Policy": policy_shape(policy, tags)}


@operation("iam", "DeletePolicy")
def delete_policy(call: Call, p: Params) -> Result:
    policy = _customer(existing_policy(call, p["PolicyArn"], "iam:DeletePolicy"))
    with call.runtime.store.transaction() as tx:
        _hold(tx, policy)
        if tx.attachments_of(policy.policy_id):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if len(tx.list_versions(policy.policy_id)) > 1:
            raise DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must delete the "
                "policy's versions. The default version is deleted with the policy."
            )
        tx.delete_policy(policy.policy_id)
    call.runtime.changed()
    return {}


@operation("iam", "ListPolicies")
def list_policies(call: Call, p: Params) -> Result:
    prefix = check_path(p.get("PathPrefix"))
    authorize(call, "iam:ListPolicies", arn.iam_arn(call.caller.account_id, "policy", "/", ""))
    scope = p.get("Scope") or "All"
    with call.runtime.store.transaction() as tx:
        found: list[ManagedPolicy] = []
        if scope in ("All", "AWS"):
            found += tx.list_policies(None, counted_in=call.caller.account_id)
        if scope in ("All", "Local"):
            found += tx.list_policies(call.caller.account_id, counted_in=call.caller.account_id)
    found = [
        x for x in found if x.path.startswith(prefix) and (not p.get("OnlyAttached") or x.attachment_count)
    ]
    found.sort(key=lambda x: x.arn.lower())
    page, more = paginate(found, p, key=lambda x: x.arn.lower())
    return {"Policies": [policy_shape(x) for x in page], **more}


@operation("iam", "CreatePolicyVersion")
def create_policy_version(call: Call, p: Params) -> Result:
    policy = _customer(existing_policy(call, p["PolicyArn"], "iam:CreatePolicyVersion"))
    document = checked_document(decoded(p["PolicyDocument"]), "identity", MANAGED_POLICY_MAX)
    with call.runtime.store.transaction() as tx:
        current = _hold(tx, policy)
        if len(tx.list_versions(policy.policy_id)) >= MAX_VERSIONS:
            raise LimitExceeded(
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, "
                "you must delete an existing version."
            )
        version = PolicyVersion(policy.policy_id, f"v{current.next_version}", document, call.now)
        default = version.version_id if p.get("SetAsDefault") else current.default_version_id
        tx.insert_version(version)
        tx.update_policy(
            replace(
                current,
                next_version=current.next_version + 1,
                default_version_id=default,
                updated_at=call.now,
            )
        )
    call.runtime.changed()
    return {"PolicyVersion": version_shape(version, default, document=False)}


def _version(call: Call, p: Params, action: str) -> tuple[ManagedPolicy, PolicyVersion]:
    policy = existing_policy(call, p["PolicyArn"], action)
    with call.runtime.store.transaction() as tx:
        version = tx.get_version(policy.policy_id, p["VersionId"])
    if version is None:
        raise _no_version(policy, p["VersionId"])
    return policy, version


@operation("iam", "GetPolicyVersion")
def get_policy_version(call: Call, p: Params) -> Result:
    policy, version = _version(call, p, "iam:GetPolicyVersion")
    return {"PolicyVersion": version_shape(version, policy.default_version_id)}


@operation("iam", "ListPolicyVersions")
def list_policy_versions(call: Call, p: Params) -> Result:
    policy = existing_policy(call, p["PolicyArn"], "iam:ListPolicyVersions")
    with call.runtime.store.transaction() as tx:
        versions = tx.list_versions(policy.policy_id)
    page, more = paginate(versions, p, key=lambda v: f"{1_000_000 - int(v.version_id[1:]):07d}")
    return {"Versions": [version_shape(v, policy.default_version_id, document=False) for v in page], **more}


@operation("iam", "DeletePolicyVersion")
def delete_policy_version(call: Call, p: Params) -> Result:
    policy, version = _version(call, p, "iam:DeletePolicyVersion")
    _customer(policy)
    with call.runtime.store.transaction() as tx:
        if version.version_id == _hold(tx, policy).default_version_id:
            raise DeleteConflict("Cannot delete the default version of a policy.")
        if tx.get_version(policy.policy_id, version.version_id) is None:  # deleted meanwhile
            raise _no_version(policy, version.version_id)
        tx.delete_version(policy.policy_id, version.version_id)
    call.runtime.changed()
    return {}


@operation("iam", "SetDefaultPolicyVersion")
def set_default_policy_version(call: Call, p: Params) -> Result:
    policy, version = _version(call, p, "iam:SetDefaultPolicyVersion")
    _customer(policy)
    with call.runtime.store.transaction() as tx:
        current = _hold(tx, policy)
        if tx.get_version(policy.policy_id, version.version_id) is None:  # deleted meanwhile
            raise _no_version(policy, version.version_id)
        tx.update_policy(replace(current, default_version_id=version.version_id, updated_at=call.now))
    call.runtime.changed()
    return {}


@operation("iam", "TagPolicy")
def tag_policy(call: Call, p: Params) -> Result:
    policy = _customer(existing_policy(call, p["PolicyArn"], "iam:TagPolicy"))
    with call.runtime.store.transaction() as tx:
        _hold(tx, policy)  # the 50-tag quota, one writer at a time
        add_tags(tx, "policy", policy.policy_id, tags_param(p))
    return {}


@operation("iam", "UntagPolicy")
def untag_policy(call: Call, p: Params) -> Result:
    policy = _customer(existing_policy(call, p["PolicyArn"], "iam:UntagPolicy"))
    with call.runtime.store.transaction() as tx:
        remove_tag_keys(tx, "policy", policy.policy_id, list(p["TagKeys"]))
    return {}


@operation("iam", "ListPolicyTags")
def list_policy_tags(call: Call, p: Params) -> Result:
    policy = existing_policy(call, p["PolicyArn"], "iam:ListPolicyTags")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of("policy", policy.policy_id)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}
