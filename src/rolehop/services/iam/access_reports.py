"""ListPoliciesGrantingServiceAccess and the organizations access report.

ListPoliciesGrantingServiceAccess: for each service namespace asked for, the permissions policies of
the user, group or role (a user's own and its groups') with an Allow statement whose actions can name
an action of that service. The policy engine's compiled statements decide it, by pattern overlap
(core.policy.overlap), so it holds for services rolehop does not serve too: `s3:Get*` grants s3,
`*` every service, and a NotAction grants a service unless it covers all of that service's actions.
As in the access advisor (service_last_accessed), Deny statements, boundaries and SCPs play no part.

The organizations access report (GenerateOrganizationsAccessReport, GetOrganizationsAccessReport),
for the management account only (another account's job fails with ErrorDetails, as a job that
cannot run does in AWS): the services rolehop serves that the entity's SCPs allow (every
level of its path, from the root down, must have an attached SCP allowing some action of the
service; with OrganizationsPolicyId, the services that one SCP allows), and for each the newest
attempt (refused ones too) by any principal (root user, IAM users, roles' sessions) of the accounts in
the entity, from the audit trail. The report is computed when the job is generated and stored in the
access advisor's jobs table (kind ORGANIZATIONS); Get pages through it (docs/decisions.md).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from rolehop.core import arn
from rolehop.core.entities import Identity, IdentityKind
from rolehop.core.errors import InvalidInput, NoSuchEntity
from rolehop.core.organization import SCP, Organization
from rolehop.core.policy import Policy
from rolehop.core.policy.overlap import covers, overlaps
from rolehop.core.policy.wildcard import Tokens, Wild
from rolehop.services.iam.service_last_accessed import JOB_DAYS, SERVICE_NAMES, page_of
from rolehop.services.pipeline.authorize import authorize, compiled
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.control_policies import DEFAULTS, effective_policies
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.trail_records import event_source
from rolehop.services.ports.service_last_accessed import AccessReportJob
from rolehop.services.ports.store import Tx

_NAMESPACE = re.compile(r"[\w-]{1,64}")
ORGANIZATIONS = "ORGANIZATIONS"  # the job's granularity: tells an organizations report from the advisor's
_ENTITY_PATH = re.compile(r"o-[0-9a-z]{10,32}/r-[0-9a-z]{4,32}[0-9a-z/-]*")
_POLICY_ID = re.compile(r"p-[0-9a-zA-Z_]{8,128}")
NOT_MANAGEMENT = "Only the management account of an organization may generate an organizations access report."
SORT_KEYS = (
    "SERVICE_NAMESPACE_ASCENDING",
    "SERVICE_NAMESPACE_DESCENDING",
    "LAST_AUTHENTICATED_TIME_ASCENDING",
    "LAST_AUTHENTICATED_TIME_DESCENDING",
)
_ENTITY_TYPES = MappingProxyType({"user": "USER", "group": "GROUP", "role": "ROLE"})


@operation("iam", "ListPoliciesGrantingServiceAccess")
def list_policies_granting_service_access(call: Call, p: Params) -> Result:
    target = p["Arn"]
    namespaces = list(p["ServiceNamespaces"])
    parsed = _identity_arn(target)
    for namespace in namespaces:
        if not _NAMESPACE.fullmatch(namespace):
            raise InvalidInput(f"Invalid service namespace: {namespace}")
    if not 1 <= len(namespaces) <= 200:
        raise InvalidInput("ServiceNamespaces must hold from 1 to 200 service namespaces.")
    authorize(call, "iam:ListPoliciesGrantingServiceAccess", target)
    rt = call.runtime
    account = call.caller.account_id
    kind, name = parsed
    with rt.store.transaction() as tx:
        found = tx.get_identity(kind, account, name) if arn.parse_arn(target).account == account else None
        if found is None or found.arn != target:
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
        candidates = _policies_of(tx, found)
    compiled_ = [(shape, compiled(rt, text, label)) for shape, text, label in candidates]
    entries = []
    for namespace in namespaces:
        granting = [shape for shape, policy in compiled_ if _grants(policy, namespace.lower())]
        entries.append({"ServiceNamespace": namespace, "Policies": granting})
    return {"PoliciesGrantingServiceAccess": entries, "IsTruncated": False}


def _identity_arn(target: str) -> tuple[IdentityKind, str]:
    parsed = arn.parse_arn(target)  # InvalidInput when it is no ARN
    kind = parsed.resource_type
    if parsed.service != "iam" or "/" not in parsed.resource:
        raise InvalidInput(f"ARN {target} is not valid.")
    kinds: dict[str, IdentityKind] = {"user": "user", "group": "group", "role": "role"}
    if kind not in kinds:
        raise InvalidInput(f"ARN {target} is not valid.")
    return kinds[kind], parsed.resource_name


def _policies_of(tx: Tx, identity: Identity) -> list[tuple[dict[str, Any], str, str]]:
    """(output shape, document, label) of each permissions policy of the identity, its groups' too."""
    owners = [identity] + (tx.groups_of(identity.unique_id) if identity.kind == "user" else [])
    found: list[tuple[dict[str, Any], str, str]] = []
    for owner in owners:
        for inline in sorted(tx.list_inline(owner.kind, owner.unique_id), key=lambda x: x.name):
            shape = {
                "PolicyName": inline.name,
                "PolicyType": "INLINE",
                "EntityType": _ENTITY_TYPES[owner.kind],
                "EntityName": owner.name,
            }
            found.append((shape, inline.document, f"{owner.kind}/{owner.name}/{inline.name}"))
    seen: set[str] = set()
    for owner in owners:
        for managed in sorted(tx.attached_policies(owner.kind, owner.unique_id), key=lambda x: x.arn):
            if managed.arn in seen:  # attached to the user and to one of its groups: listed once
                continue
            seen.add(managed.arn)
            version = tx.get_version(managed.policy_id, managed.default_version_id)
            text = version.document if version else '{"Statement":[]}'
            shape = {"PolicyName": managed.name, "PolicyType": "MANAGED", "PolicyArn": managed.arn}
            found.append((shape, text, managed.arn))
    return found


def _grants(policy: Policy, namespace: str) -> bool:
    """Whether an Allow statement of `policy` can name an action of `namespace` (lower-case)."""
    service: Tokens = (f"{namespace}:", Wild.ONE, Wild.STAR)  # every action of the service
    for statement in policy.statements:
        if not (statement.allow and statement.identity_ok):
            continue
        if statement.not_action:
            if not any(covers(glob.tokens, service) for glob in statement.actions):
                return True
        elif any(overlaps(glob.tokens, service) for glob in statement.actions):
            return True
    return False


# the organizations access report
@operation("iam", "GenerateOrganizationsAccessReport")
def generate_organizations_access_report(call: Call, p: Params) -> Result:
    path = p["EntityPath"].rstrip("/")
    policy_id = p.get("OrganizationsPolicyId")
    if not _ENTITY_PATH.fullmatch(path):
        raise InvalidInput(f"Invalid EntityPath: {p['EntityPath']}")
    if policy_id is not None and not _POLICY_ID.fullmatch(policy_id):
        raise InvalidInput(f"Invalid OrganizationsPolicyId: {policy_id}")
    authorize(call, "iam:GenerateOrganizationsAccessReport", "*")
    rt = call.runtime
    with rt.store.transaction() as tx:
        org = tx.get_organization()
        management = org is not None and org.management_account_id == call.caller.account_id
        accounts = _accounts_in(tx, org, path) if org is not None and management else {}
    if org is not None and management:
        rt.trail.flush()  # this node's records still waiting for their batch belong in the report
    with rt.store.transaction() as tx:
        if org is not None and management:
            report = _org_report(call, tx, org, path, accounts, policy_id)
        else:  # the job fails, as AWS's jobs report why (ErrorDetails)
            report = {
                "status": "FAILED",
                "services": [],
                "error": {"Code": "AccessDenied", "Message": NOT_MANAGEMENT},
            }
        tx.delete_access_report_jobs(call.now - timedelta(days=JOB_DAYS))
        job = AccessReportJob(
            job_id=str(uuid.UUID(bytes=rt.random(16), version=4)),
            account_id=call.caller.account_id,
            owner_arn=call.caller.arn,
            entity_arn=path,
            granularity=ORGANIZATIONS,
            created_at=call.now,
            completed_at=call.now,
            report=json.dumps(report, separators=(",", ":")),
        )
        tx.insert_access_report_job(job)
    rt.changed()
    return {"JobId": job.job_id}


@operation("iam", "GetOrganizationsAccessReport")
def get_organizations_access_report(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetOrganizationsAccessReport", "*")
    job_id = p["JobId"]
    sort_key = p.get("SortKey") or SORT_KEYS[0]
    if sort_key not in SORT_KEYS:
        raise InvalidInput(f"Invalid SortKey: {sort_key}")
    try:
        uuid.UUID(job_id)
    except ValueError as e:
        raise InvalidInput(f"Invalid JobId: {job_id}") from e
    with call.runtime.store.transaction() as tx:
        job = tx.get_access_report_job(job_id)
    if (
        job is None
        or job.report is None
        or job.granularity != ORGANIZATIONS
        or job.created_at < call.now - timedelta(days=JOB_DAYS)
        or job.account_id != call.caller.account_id
        or job.owner_arn != call.caller.arn
    ):
        raise NoSuchEntity(f"The job with ID {job_id} cannot be found.")
    report = json.loads(job.report)
    details = [_detail(s) for s in report["services"]]
    details.sort(key=lambda d: d["ServiceNamespace"], reverse=sort_key == "SERVICE_NAMESPACE_DESCENDING")
    if sort_key.startswith("LAST_AUTHENTICATED_TIME"):
        accessed = sorted(
            (d for d in details if "LastAuthenticatedTime" in d),
            key=lambda d: d["LastAuthenticatedTime"],
            reverse=sort_key.endswith("DESCENDING"),
        )
        details = accessed + [d for d in details if "LastAuthenticatedTime" not in d]  # never accessed last
    page, more = page_of(details, p)
    not_accessed = sum(1 for s in report["services"] if s["last"] is None)
    result: dict[str, Any] = {
        "JobStatus": report.get("status", "COMPLETED"),
        "JobCreationDate": job.created_at,
        "JobCompletionDate": job.completed_at,
        "NumberOfServicesAccessible": len(report["services"]) - not_accessed,
        "NumberOfServicesNotAccessed": not_accessed,
        "AccessDetails": page,
        **more,
    }
    if "error" in report:
        result["ErrorDetails"] = report["error"]
    return result


def _accounts_in(tx: Tx, org: Organization, path: str) -> dict[str, str]:
    """{account ID: its entity path} of the accounts in the entity `path` names (checked level by level)."""
    parts = path.split("/")
    invalid = InvalidInput(f"Invalid EntityPath: {path}")
    if parts[0] != org.org_id or parts[1] != org.root_id:
        raise invalid
    parent = org.root_id
    for part in parts[2:-1]:
        ou = tx.get_ou(part)
        if ou is None or ou.parent_id != parent:
            raise invalid
        parent = part
    last = parts[-1]
    if len(parts) > 2 and last.isdigit():  # an account
        if tx.parent_of_account(last) != parent:
            raise invalid
        return {last: path}
    if len(parts) > 2:
        ou = tx.get_ou(last)
        if ou is None or ou.parent_id != parent:
            raise invalid
    found: dict[str, str] = {}
    _collect(tx, last, path, found)
    return found


def _collect(tx: Tx, parent_id: str, path: str, found: dict[str, str]) -> None:
    for account_id in tx.accounts_under(parent_id):
        found[account_id] = f"{path}/{account_id}"
    for ou in tx.list_ous(parent_id):
        _collect(tx, ou.ou_id, f"{path}/{ou.ou_id}", found)


def _allowed_services(call: Call, tx: Tx, org: Organization, path: str, policy_id: str | None) -> list[str]:
    """The served services the SCPs allow to the entity (or the one SCP named)."""
    if policy_id is not None:
        policy = tx.get_org_policy(policy_id)
        if policy is None and DEFAULTS[SCP].policy_id == policy_id:  # FullAWSAccess, kept implicit
            policy = DEFAULTS[SCP]
        if policy is None or policy.policy_type != SCP:
            raise InvalidInput(f"Invalid OrganizationsPolicyId: {policy_id}")
        levels = [[policy]]
    elif SCP not in org.policy_types:  # no SCP restricts the organization
        return sorted(SERVICE_NAMES)
    else:
        levels = [effective_policies(tx, target, SCP) for target in path.split("/")[1:]]
    allowed = []
    for namespace in sorted(SERVICE_NAMES):
        if all(
            any(
                _grants(compiled(call.runtime, x.content, x.policy_id), namespace)
                for x in level
                if x.policy_type == SCP
            )
            for level in levels
        ):
            allowed.append(namespace)
    return allowed


def _org_report(
    call: Call, tx: Tx, org: Organization, path: str, accounts: dict[str, str], policy_id: str | None
) -> dict[str, Any]:
    allowed = _allowed_services(call, tx, org, path, policy_id)
    principals: dict[str, str] = {}  # principal ARN -> its account
    for account_id in accounts:
        principals[arn.root_arn(account_id)] = account_id
        for kind in ("user", "role"):
            for identity in tx.list_identities(kind, account_id):
                principals[identity.arn] = account_id
    sources = {event_source(ns): ns for ns in allowed}
    accesses = tx.last_accesses(sorted(principals), list(sources))
    services = []
    for namespace in allowed:
        mine = [a for a in accesses if sources[a.event_source] == namespace]
        last = None
        if mine:
            newest = max(mine, key=lambda a: (a.at, a.principal_arn))
            last = [newest.at.isoformat(), accounts[principals[newest.principal_arn]], newest.region]
        services.append(
            {
                "namespace": namespace,
                "name": SERVICE_NAMES[namespace],
                "last": last,
                "total": len({principals[a.principal_arn] for a in mine}),
            }
        )
    return {"services": services}


def _detail(service: dict[str, Any]) -> dict[str, Any]:
    shape: dict[str, Any] = {"ServiceName": service["name"], "ServiceNamespace": service["namespace"]}
    if service["last"] is not None:
        at, entity_path, region = service["last"]
        shape.update(
            Region=region,
            EntityPath=entity_path,
            LastAuthenticatedTime=datetime.fromisoformat(at),
            TotalAuthenticatedEntities=service["total"],
        )
    else:
        shape["TotalAuthenticatedEntities"] = 0
    return shape
