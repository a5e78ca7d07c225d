"""IAM's service last accessed details (the access advisor), from the audit trail:
GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails,
GetServiceLastAccessedDetailsWithEntities.

A report lists the services the entity's permissions policies allow (of those rolehop serves: IAM,
STS, Organizations, CloudTrail), judged by the policy engine's own compiled statements: a service is
listed when an Allow statement of an identity policy (or, for a policy report, of the policy) names
one of its actions. As in AWS, permissions boundaries, SCPs, resource and session policies play no
part, and Deny statements do not remove a service. For each service, the newest attempt (refused ones
included, as AWS counts them) by the entity: the user or role itself, a group's members, or the users
and roles a managed policy is attached to (directly or through a group).

Jobs run as AWS's do, asynchronously: Generate stores the job; its first Get computes the report
(after writing this node's pending trail records) and stores it, so every later page reads the same
report. Only the principal who generated a job may read it (AWS: "the same role within a session,
or the same user"), for JOB_DAYS.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from rolehop.core import arn
from rolehop.core.entities import Identity, IdentityKind, ManagedPolicy
from rolehop.core.errors import InvalidInput, NoSuchEntity
from rolehop.core.policy import Policy
from rolehop.services.pipeline.authorize import authorize, compiled
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import OPERATIONS, Params, Result, operation
from rolehop.services.pipeline.trail_records import event_source
from rolehop.services.ports.service_last_accessed import AccessReportJob
from rolehop.services.ports.store import Tx
from rolehop.services.ports.trail import Access

# AWS documents no lifetime for a job; rolehop keeps one this long (docs/decisions.md)
JOB_DAYS = 7
DEFAULT_MAX_ITEMS = 100
SERVICE_LEVEL, ACTION_LEVEL = "SERVICE_LEVEL", "ACTION_LEVEL"
# ServiceName as AWS's reports show it
SERVICE_NAMES = MappingProxyType(
    {
        "cloudtrail": "AWS CloudTrail",
        "iam": "AWS Identity and Access Management",
        "organizations": "AWS Organizations",
        "sts": "AWS Security Token Service",
    }
)
# actions that are no operation of their own but still grant access to their service
PERMISSION_ONLY_ACTIONS = (("iam", "PassRole"), ("sts", "TagSession"), ("sts", "SetSourceIdentity"))
_ENTITY_TYPES = MappingProxyType({"user": "USER", "role": "ROLE", "group": "GROUP"})


@dataclass(frozen=True)
class _Subject:
    """What a report is about: a user, group or role, or a managed policy."""

    arn: str
    identity: Identity | None = None
    policy: ManagedPolicy | None = None


@dataclass(frozen=True)
class _Entity:
    """A user, role or group the report lists, and the principals whose events count for it."""

    identity: Identity
    principals: tuple[str, ...]


@operation("iam", "GenerateServiceLastAccessedDetails")
def generate_service_last_accessed_details(call: Call, p: Params) -> Result:
    target = p["Arn"]
    granularity = p.get("Granularity") or SERVICE_LEVEL
    if granularity not in (SERVICE_LEVEL, ACTION_LEVEL):
        raise InvalidInput(f"Invalid Granularity: {granularity}")
    _kind_of(target)
    authorize(call, "iam:GenerateServiceLastAccessedDetails", target)
    rt = call.runtime
    with rt.store.transaction() as tx:
        subject = _subject(tx, target, call.caller.account_id)
        tx.delete_access_report_jobs(call.now - timedelta(days=JOB_DAYS))
        job = AccessReportJob(
            job_id=str(uuid.UUID(bytes=rt.random(16), version=4)),
            account_id=call.caller.account_id,
            owner_arn=call.caller.arn,
            entity_arn=subject.arn,
            granularity=granularity,
            created_at=call.now,
        )
        tx.insert_access_report_job(job)
    return {"JobId": job.job_id}


@operation("iam", "GetServiceLastAccessedDetails")
def get_service_last_accessed_details(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetServiceLastAccessedDetails", "*")
    job, report = _completed(call, p["JobId"])
    services = [_service_shape(s) for s in report["services"]]
    page, more = page_of(services, p)
    result: dict[str, Any] = {
        "JobStatus": report["status"],
        "JobType": job.granularity,
        "JobCreationDate": job.created_at,
        "JobCompletionDate": job.completed_at,
        "ServicesLastAccessed": page,
        **more,
    }
    if "error" in report:
        result["Error"] = report["error"]
    return result


@operation("iam", "GetServiceLastAccessedDetailsWithEntities")
def get_service_last_accessed_details_with_entities(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetServiceLastAccessedDetailsWithEntities", "*")
    job, report = _completed(call, p["JobId"])
    namespace = p["ServiceNamespace"]
    listed = any(s["namespace"] == namespace for s in report["services"])
    shapes = [_entity_shape(e, namespace) for e in report["entities"]] if listed else []
    # the most recent access first (AWS's order), then the entities that made none, by name
    accessed = sorted(
        (e for e in shapes if "LastAuthenticated" in e), key=lambda e: e["LastAuthenticated"], reverse=True
    )
    never = sorted((e for e in shapes if "LastAuthenticated" not in e), key=lambda e: e["EntityInfo"]["Name"])
    page, more = page_of(accessed + never, p)
    result: dict[str, Any] = {
        "JobStatus": report["status"],
        "JobCreationDate": job.created_at,
        "JobCompletionDate": job.completed_at,
        "EntityDetailsList": page,
        **more,
    }
    if "error" in report:
        result["Error"] = report["error"]
    return result


# jobs
def _completed(call: Call, job_id: str) -> tuple[AccessReportJob, dict[str, Any]]:
    """The caller's job and its report, computed now if this is its first read."""
    try:
        uuid.UUID(job_id)
    except ValueError as e:
        raise InvalidInput(f"Invalid JobId: {job_id}") from e
    rt = call.runtime
    with rt.store.transaction() as tx:
        job = tx.get_access_report_job(job_id)
    expired = job is not None and job.created_at < call.now - timedelta(days=JOB_DAYS)
    missing = NoSuchEntity(f"The job with ID {job_id} cannot be found.")
    if (
        job is None
        or expired
        or job.account_id != call.caller.account_id
        or job.owner_arn != call.caller.arn
        or job.granularity not in (SERVICE_LEVEL, ACTION_LEVEL)  # the table also holds other reports
    ):
        raise missing
    if job.report is None:
        rt.trail.flush()  # this node's records still waiting for their batch belong in the report
        report = json.dumps(_report(call, job), separators=(",", ":"))
        with rt.store.transaction() as tx:
            tx.complete_access_report_job(job.job_id, call.now, report)
            job = tx.get_access_report_job(job_id)  # another reader may have completed it first
    if job is None or job.report is None:  # expired and swept meanwhile
        raise missing
    return job, json.loads(job.report)


def page_of(items: list[dict[str, Any]], p: Params) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """IAM's MaxItems/Marker paging over a completed report (which never changes: positions hold)."""
    start = 0
    marker = p.get("Marker")
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise InvalidInput("Invalid Marker.") from e
        if not 0 < start <= len(items):
            raise InvalidInput("Invalid Marker.")
    end = start + int(p.get("MaxItems") or DEFAULT_MAX_ITEMS)
    more: dict[str, Any] = {"IsTruncated": end < len(items)}
    if more["IsTruncated"]:
        more["Marker"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return items[start:end], more


# what a report is about
def _kind_of(target: str) -> str:
    parsed = arn.parse_arn(target)
    kind = parsed.resource_type
    if (
        parsed.service != "iam"
        or kind not in ("user", "group", "role", "policy")
        or "/" not in parsed.resource
    ):
        raise InvalidInput(f"ARN {target} is not valid.")
    return kind


def _subject(tx: Tx, target: str, account_id: str) -> _Subject:
    kind = _kind_of(target)
    if kind == "policy":
        policy = tx.get_policy(target)
        if policy is None or not policy.attachable_in(account_id):
            raise NoSuchEntity(f"Policy {target} does not exist or is not attachable.")
        return _Subject(policy.arn, policy=policy)
    parsed = arn.parse_arn(target)
    name = parsed.resource_name
    identity_kind: IdentityKind = "user" if kind == "user" else "group" if kind == "group" else "role"
    found = tx.get_identity(identity_kind, account_id, name) if parsed.account == account_id else None
    if found is None or found.arn != target:
        raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
    return _Subject(found.arn, identity=found)


def _documents(tx: Tx, subject: _Subject) -> list[tuple[str, str]]:
    """(name, text) of the permissions policies a report weighs."""
    if subject.policy is not None:
        return [(subject.policy.arn, _managed_text(tx, subject.policy))]
    identity = subject.identity
    assert identity is not None
    owners = [identity] + (tx.groups_of(identity.unique_id) if identity.kind == "user" else [])
    docs = []
    for owner in owners:
        for inline in tx.list_inline(owner.kind, owner.unique_id):
            docs.append((f"{owner.kind}/{owner.name}/{inline.name}", inline.document))
        for managed in tx.attached_policies(owner.kind, owner.unique_id):
            docs.append((managed.arn, _managed_text(tx, managed)))
    return docs


def _managed_text(tx: Tx, policy: ManagedPolicy) -> str:
    version = tx.get_version(policy.policy_id, policy.default_version_id)
    return version.document if version else '{"Statement":[]}'


def _entities(tx: Tx, subject: _Subject, account_id: str) -> list[_Entity]:
    """The entities a report lists, each with the principals (users and roles) acting for it."""
    if subject.identity is not None:
        identity = subject.identity
        if identity.kind == "group":
            return [_Entity(u, (u.arn,)) for u in tx.group_members(identity.unique_id)]
        return [_Entity(identity, (identity.arn,))]
    assert subject.policy is not None
    found = []
    for _kind, principal_id in tx.attachments_of(subject.policy.policy_id):
        holder = tx.get_identity_by_id(principal_id)
        if holder is None or holder.account_id != account_id:  # another account's use is not ours to see
            continue
        members = tx.group_members(holder.unique_id) if holder.kind == "group" else [holder]
        found.append(_Entity(holder, tuple(m.arn for m in members)))
    return found


# the report
def _allowed_actions(policies: list[Policy]) -> dict[str, list[str]]:
    """{service namespace: the operations of it some Allow statement names} for served services."""

    def allows(service: str, action: str) -> bool:
        key = f"{service}:{action}".lower()
        return any(st.allow and st.identity_ok for policy in policies for st in policy.for_action(key))

    allowed: dict[str, list[str]] = {}
    for service, action in sorted(OPERATIONS):
        if service in SERVICE_NAMES and allows(service, action):
            allowed.setdefault(service, []).append(action)
    for service, action in PERMISSION_ONLY_ACTIONS:
        if allows(service, action):
            allowed.setdefault(service, [])
    return allowed


def _report(call: Call, job: AccessReportJob) -> dict[str, Any]:
    rt = call.runtime
    with rt.store.transaction() as tx:
        try:
            subject = _subject(tx, job.entity_arn, job.account_id)
        except NoSuchEntity as e:  # deleted since the job was generated: the job failed, as in AWS
            return {
                "status": "FAILED",
                "error": {"Code": e.code, "Message": e.message},
                "services": [],
                "entities": [],
            }
        documents = _documents(tx, subject)
        entities = _entities(tx, subject, job.account_id)
        policies = [compiled(rt, text, name) for name, text in documents]
        allowed = _allowed_actions(policies)
        sources = {event_source(ns): ns for ns in allowed}
        principals = sorted({p for e in entities for p in e.principals})
        accesses = tx.last_accesses(principals, list(sources))
    by_service: dict[str, list[Access]] = {}
    for access in accesses:
        by_service.setdefault(sources[access.event_source], []).append(access)
    services = []
    for namespace in sorted(allowed):
        attempts = by_service.get(namespace, [])
        service: dict[str, Any] = {
            "namespace": namespace,
            "name": SERVICE_NAMES[namespace],
            "last": _last(attempts),
            "total": len({a.principal_arn for a in attempts}),
        }
        if job.granularity == ACTION_LEVEL:
            service["actions"] = [
                [action, _last([a for a in attempts if a.event_name == action])]
                for action in sorted(allowed[namespace])
            ]
        services.append(service)
    listed = []
    for entity in entities:
        mine = [a for a in accesses if a.principal_arn in entity.principals]
        newest = {}
        for namespace in sorted(allowed):
            last = _last([a for a in mine if sources[a.event_source] == namespace])
            if last is not None:
                newest[namespace] = last[0]
        identity = entity.identity
        listed.append(
            {
                "arn": identity.arn,
                "name": identity.name,
                "type": _ENTITY_TYPES[identity.kind],
                "id": identity.unique_id,
                "path": identity.path,
                "last": newest,
            }
        )
    return {"status": "COMPLETED", "services": services, "entities": listed}


def _last(attempts: list[Access]) -> list[str] | None:
    """[when, by whom, where] of the newest of `attempts`."""
    if not attempts:
        return None
    newest = max(attempts, key=lambda a: (a.at, a.principal_arn))
    return [newest.at.isoformat(), newest.principal_arn, newest.region]


# output shapes
def _service_shape(service: dict[str, Any]) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "ServiceName": service["name"],
        "ServiceNamespace": service["namespace"],
        "TotalAuthenticatedEntities": service["total"],
    }
    if service["last"] is not None:
        at, entity, region = service["last"]
        shape.update(
            LastAuthenticated=datetime.fromisoformat(at),
            LastAuthenticatedEntity=entity,
            LastAuthenticatedRegion=region,
        )
    if "actions" in service:
        tracked = []
        for action, last in service["actions"]:
            entry: dict[str, Any] = {"ActionName": action}
            if last is not None:
                entry.update(
                    LastAccessedTime=datetime.fromisoformat(last[0]),
                    LastAccessedEntity=last[1],
                    LastAccessedRegion=last[2],
                )
            tracked.append(entry)
        shape["TrackedActionsLastAccessed"] = tracked
    return shape


def _entity_shape(entity: dict[str, Any], namespace: str) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "EntityInfo": {
            "Arn": entity["arn"],
            "Name": entity["name"],
            "Type": entity["type"],
            "Id": entity["id"],
            "Path": entity["path"],
        }
    }
    if namespace in entity["last"]:
        shape["LastAuthenticated"] = datetime.fromisoformat(entity["last"][namespace])
    return shape
