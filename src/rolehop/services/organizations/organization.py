"""The organization itself: DescribeOrganization and ListRoots. rolehop serves one organization,
whose management account is the server's (its ID and root ID are derived from that account)."""

from __future__ import annotations

from rolehop.core.organization import organization_id, root_id
from rolehop.services.organizations.common import management_only, org_arn
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation


@operation("organizations", "DescribeOrganization")
def describe_organization(call: Call, p: Params) -> Result:
    authorize(call, "organizations:DescribeOrganization", "*")
    mgmt = call.runtime.settings.management_account_id
    with call.runtime.store.transaction() as tx:
        management = tx.get_account(mgmt)
    return {
        "Organization": {
            "Id": organization_id(mgmt),
            "Arn": org_arn(mgmt, "organization"),
            "FeatureSet": "ALL",
            "MasterAccountArn": org_arn(mgmt, "account", f"/{mgmt}"),
            "MasterAccountId": mgmt,
            "MasterAccountEmail": management.email if management else "",
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }
    }


@operation("organizations", "ListRoots")
def list_roots(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListRoots")
    rid = root_id(mgmt)
    root = {
        "Id": rid,
        "Arn": org_arn(mgmt, "root", f"/{rid}"),
        "Name": "Root",
        "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
    }
    return {"Roots": [root]}
