"""Customer-managed policies and their versions, attachments, and the AWS-managed catalogue."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolehop.core import arn
from rolehop.core.entities import IdentityKind, ManagedPolicy, PolicyVersion
from rolehop.core.errors import DeleteConflict, InvalidInput, LimitExceeded, NoSuchEntity
from rolehop.core.ids import POLICY_PREFIX, unique_id
from rolehop.core.policy.validate import MANAGED_POLICY_MAX
from rolehop.services.authorize import authorize
from rolehop.services.call import Call
from rolehop.services.common import (
    add_tags,
    check_new_path,
    check_path,
    existing,
    paginate,
    request_tag_context,
    tag_shapes,
    tags_param,
)
from rolehop.services.policy_documents import checked_document, checked_policy_arn, decoded
from rolehop.services.registry import Params, Result, operation
from rolehop.services.shapes import policy_shape, version_shape

MAX_VERSIONS = 5
MANAGED_PER_IDENTITY = 10


def _not_found(policy_arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {policy_arn} was not found.")


def _policy(call: Call, policy_arn: str, action: str) -> ManagedPolicy:
    checked_policy_arn(policy_arn)
    authorize(call, action, policy_arn)
    with call.runtime.store.transaction() as tx:
        policy = tx.get_policy(policy_arn)
    if policy is None:
        raise _not_found(policy_arn)
    return policy


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
    policy = _policy(call, p["PolicyArn"], "iam:GetPolicy")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of("policy", policy.policy_id)
    return {"Policy": policy_shape(policy, tags)}


@operation("iam", "DeletePolicy")
def delete_policy(call: Call, p: Params) -> Result:
    policy = _customer(_policy(call, p["PolicyArn"], "iam:DeletePolicy"))
    with call.runtime.store.transaction() as tx:
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
            found += tx.list_policies(None)
        if scope in ("All", "Local"):
            found += tx.list_policies(call.caller.account_id)
    found = [
        x for x in found if x.path.startswith(prefix) and (not p.get("OnlyAttached") or x.attachment_count)
    ]
    found.sort(key=lambda x: x.arn.lower())
    page, more = paginate(found, p, key=lambda x: x.arn.lower())
    return {"Policies": [policy_shape(x) for x in page], **more}


@operation("iam", "CreatePolicyVersion")
def create_policy_version(call: Call, p: Params) -> Result:
    policy = _customer(_policy(call, p["PolicyArn"], "iam:CreatePolicyVersion"))
    document = checked_document(decoded(p["PolicyDocument"]), "identity", MANAGED_POLICY_MAX)
    version = PolicyVersion(policy.policy_id, f"v{policy.next_version}", document, call.now)
    default = version.version_id if p.get("SetAsDefault") else policy.default_version_id
    with call.runtime.store.transaction() as tx:
        if len(tx.list_versions(policy.policy_id)) >= MAX_VERSIONS:
            raise LimitExceeded(
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, "
                "you must delete an existing version."
            )
        tx.insert_version(version)
        tx.update_policy(
            replace(
                policy, next_version=policy.next_version + 1, default_version_id=default, updated_at=call.now
            )
        )
    call.runtime.changed()
    return {"PolicyVersion": version_shape(version, default, document=False)}


def _version(call: Call, p: Params, action: str) -> tuple[ManagedPolicy, PolicyVersion]:
    policy = _policy(call, p["PolicyArn"], action)
    with call.runtime.store.transaction() as tx:
        version = tx.get_version(policy.policy_id, p["VersionId"])
    if version is None:
        raise NoSuchEntity(
            f"Policy {policy.arn} version {p['VersionId']} does not exist or is not attachable."
        )
    return policy, version


@operation("iam", "GetPolicyVersion")
def get_policy_version(call: Call, p: Params) -> Result:
    policy, version = _version(call, p, "iam:GetPolicyVersion")
    return {"PolicyVersion": version_shape(version, policy.default_version_id)}


@operation("iam", "ListPolicyVersions")
def list_policy_versions(call: Call, p: Params) -> Result:
    policy = _policy(call, p["PolicyArn"], "iam:ListPolicyVersions")
    with call.runtime.store.transaction() as tx:
        versions = tx.list_versions(policy.policy_id)
    page, more = paginate(versions, p, key=lambda v: f"{1_000_000 - int(v.version_id[1:]):07d}")
    return {"Versions": [version_shape(v, policy.default_version_id, document=False) for v in page], **more}


@operation("iam", "DeletePolicyVersion")
def delete_policy_version(call: Call, p: Params) -> Result:
    policy, version = _version(call, p, "iam:DeletePolicyVersion")
    _customer(policy)
    if version.version_id == policy.default_version_id:
        raise DeleteConflict("Cannot delete the default version of a policy.")
    with call.runtime.store.transaction() as tx:
        tx.delete_version(policy.policy_id, version.version_id)
    call.runtime.changed()
    return {}


@operation("iam", "SetDefaultPolicyVersion")
def set_default_policy_version(call: Call, p: Params) -> Result:
    policy, version = _version(call, p, "iam:SetDefaultPolicyVersion")
    with call.runtime.store.transaction() as tx:
        tx.update_policy(
            replace(_customer(policy), default_version_id=version.version_id, updated_at=call.now)
        )
    call.runtime.changed()
    return {}


@operation("iam", "TagPolicy")
def tag_policy(call: Call, p: Params) -> Result:
    policy = _customer(_policy(call, p["PolicyArn"], "iam:TagPolicy"))
    with call.runtime.store.transaction() as tx:
        add_tags(tx, "policy", policy.policy_id, tags_param(p))
    return {}


@operation("iam", "UntagPolicy")
def untag_policy(call: Call, p: Params) -> Result:
    policy = _customer(_policy(call, p["PolicyArn"], "iam:UntagPolicy"))
    with call.runtime.store.transaction() as tx:
        existing_keys = {t.key.lower(): t.key for t in tx.tags_of("policy", policy.policy_id)}
        tx.remove_tags(
            "policy",
            policy.policy_id,
            [existing_keys[k.lower()] for k in p["TagKeys"] if k.lower() in existing_keys],
        )
    return {}


@operation("iam", "ListPolicyTags")
def list_policy_tags(call: Call, p: Params) -> Result:
    policy = _policy(call, p["PolicyArn"], "iam:ListPolicyTags")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of("policy", policy.policy_id)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}


# attachments: one implementation for users, groups and roles
_NAME_PARAM: dict[IdentityKind, str] = {"user": "UserName", "group": "GroupName", "role": "RoleName"}


def _attach(call: Call, p: Params, kind: IdentityKind) -> Result:
    policy_arn = checked_policy_arn(p["PolicyArn"])
    target = existing(
        call,
        kind,
        p[_NAME_PARAM[kind]],
        f"iam:Attach{kind.capitalize()}Policy",
        {"iam:PolicyARN": policy_arn},
    )
    with call.runtime.store.transaction() as tx:
        policy = tx.get_policy(policy_arn)
        if policy is None:
            raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
        attached = tx.attached_policies(kind, target.unique_id)
        if policy.policy_id not in {a.policy_id for a in attached} and len(attached) >= MANAGED_PER_IDENTITY:
            raise LimitExceeded(
                f"Cannot exceed quota for PoliciesPer{kind.capitalize()}: {MANAGED_PER_IDENTITY}"
            )
        tx.attach(policy.policy_id, kind, target.unique_id)
    call.runtime.changed()
    return {}


def _detach(call: Call, p: Params, kind: IdentityKind) -> Result:
    policy_arn = checked_policy_arn(p["PolicyArn"])
    target = existing(
        call,
        kind,
        p[_NAME_PARAM[kind]],
        f"iam:Detach{kind.capitalize()}Policy",
        {"iam:PolicyARN": policy_arn},
    )
    with call.runtime.store.transaction() as tx:
        attached = {a.arn: a for a in tx.attached_policies(kind, target.unique_id)}
        if policy_arn not in attached:
            raise NoSuchEntity(f"Policy {policy_arn} was not found.")
        tx.detach(attached[policy_arn].policy_id, kind, target.unique_id)
    call.runtime.changed()
    return {}


def _list_attached(call: Call, p: Params, kind: IdentityKind) -> Result:
    target = existing(call, kind, p[_NAME_PARAM[kind]], f"iam:ListAttached{kind.capitalize()}Policies")
    prefix = check_path(p.get("PathPrefix"))
    with call.runtime.store.transaction() as tx:
        attached = [a for a in tx.attached_policies(kind, target.unique_id) if a.path.startswith(prefix)]
    page, more = paginate(attached, p, key=lambda a: a.arn.lower())
    return {"AttachedPolicies": [{"PolicyName": a.name, "PolicyArn": a.arn} for a in page], **more}


def _register_attachments(kind: IdentityKind) -> None:
    title = kind.capitalize()
    operation("iam", f"Attach{title}Policy")(lambda call, p: _attach(call, p, kind))
    operation("iam", f"Detach{title}Policy")(lambda call, p: _detach(call, p, kind))
    operation("iam", f"ListAttached{title}Policies")(lambda call, p: _list_attached(call, p, kind))


for _kind in ("user", "group", "role"):
    _register_attachments(_kind)


@operation("iam", "ListEntitiesForPolicy")
def list_entities_for_policy(call: Call, p: Params) -> Result:
    policy = _policy(call, p["PolicyArn"], "iam:ListEntitiesForPolicy")
    wanted = p.get("EntityFilter")
    out: dict[str, list[dict[str, Any]]] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    with call.runtime.store.transaction() as tx:
        for kind, principal_id in tx.attachments_of(policy.policy_id):
            ident = tx.get_identity_by_id(principal_id)
            if ident is None or (wanted and wanted.lower() != kind):
                continue
            out[f"Policy{kind.capitalize()}s"].append(
                {f"{kind.capitalize()}Name": ident.name, f"{kind.capitalize()}Id": ident.unique_id}
            )
    return {**out, "IsTruncated": False}
