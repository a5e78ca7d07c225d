"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole and
GetServiceLinkedRoleDeletionStatus.

A service-linked role lives under /aws-service-role/<service principal>/, trusts that service
principal, and is named AWSServiceRoleFor<Service>[_<CustomSuffix>]. Ordinary role writes refuse it
(protected_roles). No AWS service runs here, so no AWS-managed service policy is attached to it.
Its deletion runs when it is submitted (no linked service here holds resources that use it, and
ordinary calls cannot put it in an instance profile): the task is stored with its outcome.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from types import MappingProxyType

from rolehop.core import arn
from rolehop.core.entities import Identity
from rolehop.core.errors import InvalidInput, NoSuchEntity
from rolehop.core.ids import ROLE_PREFIX, unique_id
from rolehop.services.iam.protected_roles import SERVICE_LINKED_PATH, is_service_linked, linked_service
from rolehop.services.iam.roles import DEFAULT_MAX_SESSION, role_shape
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.instance_profiles import RoleDeletionTask

ROLE_NAME_PREFIX = "AWSServiceRoleFor"
MAX_ROLE_NAME = 64
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*\.amazonaws\.com$")
CUSTOM_SUFFIX = re.compile(r"^[\w+=,.@-]+$")
TASK_ID = re.compile(
    r"^task/aws-service-role/(?P<service>[^/]+)/(?P<role>[\w+=,.@-]+)/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
# AWS's spelling of the role name where it is not the principal's first label capitalized
KNOWN_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "autoscaling": "AutoScaling",
        "elasticbeanstalk": "ElasticBeanstalk",
        "elasticloadbalancing": "ElasticLoadBalancing",
        "ecs": "ECS",
        "rds": "RDS",
        "sso": "SSO",
        "trustedadvisor": "TrustedAdvisor",
        "cloudtrail": "CloudTrail",
        "config": "Config",
        "guardduty": "AmazonGuardDuty",
        "securityhub": "SecurityHub",
        "access-analyzer": "AccessAnalyzer",
        "support": "Support",
        "organizations": "Organizations",
        "compute-optimizer": "ComputeOptimizer",
        "spot": "EC2Spot",
        "ssm": "AmazonSSM",
        "eks": "AmazonEKS",
        "es": "AmazonElasticsearchService",
        "lambda": "Lambda",
    }
)


def role_name_for(service: str, suffix: str | None) -> str:
    first = service.removesuffix(".amazonaws.com").split(".")[0]
    name = KNOWN_NAMES.get(first) or "".join(part[:1].upper() + part[1:] for part in re.split(r"[.-]", first))
    return f"{ROLE_NAME_PREFIX}{name}" + (f"_{suffix}" if suffix else "")


def trust_policy_for(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


@operation("iam", "CreateServiceLinkedRole")
def create_service_linked_role(call: Call, p: Params) -> Result:
    service = p["AWSServiceName"]
    suffix = p.get("CustomSuffix")
    name = role_name_for(service, suffix)
    account = call.caller.account_id
    path = f"{SERVICE_LINKED_PATH}{service}/"
    target = arn.iam_arn(account, "role", path, name)
    authorize(call, "iam:CreateServiceLinkedRole", target, context={"iam:AWSServiceName": service})
    if not SERVICE_PRINCIPAL.match(service):
        raise InvalidInput(f"Invalid service principal: {service}")
    if suffix is not None and not CUSTOM_SUFFIX.match(suffix):
        raise InvalidInput(f"Invalid custom suffix: {suffix}")
    if len(name) > MAX_ROLE_NAME:
        raise InvalidInput(f"The role name {name} is longer than {MAX_ROLE_NAME} characters.")
    rt = call.runtime
    role = Identity(
        "role",
        unique_id(ROLE_PREFIX, rt.random(11)),
        account,
        name,
        path,
        call.now,
        description=p.get("Description"),
        trust_policy=trust_policy_for(service),
        max_session_duration=DEFAULT_MAX_SESSION,
    )
    with rt.store.transaction() as tx:
        if tx.get_identity("role", account, name) is not None:
            raise InvalidInput(
                f"Service role name {name} has been taken in this account, please try a different suffix."
            )
        tx.insert_identity(role)
    rt.changed()
    return {"Role": role_shape(role, full=False)}


def _task_id(service: str, role_name: str, random: bytes) -> str:
    return f"task/aws-service-role/{service}/{role_name}/{uuid.UUID(bytes=random[:16])}"


@operation("iam", "DeleteServiceLinkedRole")
def delete_service_linked_role(call: Call, p: Params) -> Result:
    name = p["RoleName"]
    account = call.caller.account_id
    with call.runtime.store.transaction() as tx:
        found = tx.get_identity("role", account, name)
    authorize(
        call, "iam:DeleteServiceLinkedRole", found.arn if found else arn.iam_arn(account, "role", "/", name)
    )
    if found is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    if not is_service_linked(found):
        raise InvalidInput(f"Role {name} is not a service-linked role.")
    rt = call.runtime
    task_id = _task_id(linked_service(found), found.name, rt.random(16))
    with rt.store.transaction() as tx:
        role = tx.lock_identity(found.unique_id)
        if role is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        # no linked service runs here to hold resources that use the role: the deletion succeeds at once
        tx.delete_identity(role.unique_id)
        tx.insert_role_deletion_task(RoleDeletionTask(task_id, account, role.arn, call.now, "SUCCEEDED"))
    rt.changed()
    return {"DeletionTaskId": task_id}


@operation("iam", "GetServiceLinkedRoleDeletionStatus")
def get_service_linked_role_deletion_status(call: Call, p: Params) -> Result:
    task_id = p["DeletionTaskId"]
    parsed = TASK_ID.match(task_id)
    account = call.caller.account_id
    role_arn = (  # the role the task deleted; an ID of no task names none
        arn.iam_arn(account, "role", f"{SERVICE_LINKED_PATH}{parsed['service']}/", parsed["role"])
        if parsed
        else arn.iam_arn(account, "role", SERVICE_LINKED_PATH, "")
    )
    authorize(call, "iam:GetServiceLinkedRoleDeletionStatus", role_arn)
    if parsed is None:
        raise InvalidInput(f"Invalid deletion task id: {task_id}")
    with call.runtime.store.transaction() as tx:
        task = tx.get_role_deletion_task(task_id)
    if task is None or task.account_id != account:
        raise NoSuchEntity(f"Deletion task {task_id} cannot be found.")
    return {"Status": task.status}
