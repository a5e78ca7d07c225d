"""The organization's resource-based delegation policy (PutResourcePolicy, DescribeResourcePolicy,
DeleteResourcePolicy): what member accounts may do to the organization beyond reading it as
delegated administrators. It is validated as core.org_delegation says and honoured by
common.management_only, through the policy engine, for every Organizations operation.
"""

from __future__ import annotations

from typing import Any

from rolehop.core.errors import ResourcePolicyNotFoundException
from rolehop.core.org_delegation import validate_delegation_policy
from rolehop.core.organization import Organization, OrgResourcePolicy, alnum
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.tags import put_tags_from_params, tag_context
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation

NOT_FOUND = "We can't find a resource policy request with the parameter that you specified."


def resource_policy_shape(org: Organization, policy: OrgResourcePolicy) -> dict[str, Any]:
    return {
        "ResourcePolicySummary": {
            "Id": policy.policy_id,
            "Arn": org.resource_arn("resourcepolicy", f"/{policy.policy_id}"),
        },
        "Content": policy.content,
    }


@operation("organizations", "PutResourcePolicy")
def put_resource_policy(call: Call, p: Params) -> Result:
    tags = p.get("Tags") or []
    org = management_only(call, "organizations:PutResourcePolicy", context=tag_context(tags))
    content = str(p["Content"])
    validate_delegation_policy(content, org.management_account_id)
    with call.runtime.store.transaction() as tx:
        existing = tx.get_org_resource_policy()
        policy_id = existing.policy_id if existing else "rp-" + alnum(call.runtime.random(8))
        policy = OrgResourcePolicy(policy_id, content)
        tx.put_org_resource_policy(policy)
        put_tags_from_params(tx, policy_id, tags)
    call.runtime.changed()
    return {"ResourcePolicy": resource_policy_shape(org, policy)}


@operation("organizations", "DescribeResourcePolicy")
def describe_resource_policy(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:DescribeResourcePolicy")
    with call.runtime.store.transaction() as tx:
        policy = tx.get_org_resource_policy()
    if policy is None:
        raise ResourcePolicyNotFoundException(NOT_FOUND)
    return {"ResourcePolicy": resource_policy_shape(org, policy)}


@operation("organizations", "DeleteResourcePolicy")
def delete_resource_policy(call: Call, p: Params) -> Result:
    management_only(call, "organizations:DeleteResourcePolicy")
    with call.runtime.store.transaction() as tx:
        policy = tx.get_org_resource_policy()
        if policy is None:
            raise ResourcePolicyNotFoundException(NOT_FOUND)
        tx.delete_org_resource_policy()
        tx.delete_org_tags(policy.policy_id)
    call.runtime.changed()
    return {}
