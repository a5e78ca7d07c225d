"""What the Organizations operations share: only the management account administers the
organization, and every resource's ARN names the organization."""

from __future__ import annotations

from rolehop.core.errors import OrganizationsAccessDenied
from rolehop.core.organization import organization_id
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call


def management_only(call: Call, action: str, resource: str = "*") -> str:
    """The management account's ID, once the caller is in it and allowed `action`; member accounts
    get Organizations' AccessDeniedException whatever their policies say."""
    mgmt = call.runtime.settings.management_account_id
    if call.caller.account_id != mgmt:
        raise OrganizationsAccessDenied("You don't have permissions to access this resource.")
    authorize(call, action, resource)
    return mgmt


def org_arn(mgmt: str, kind: str, suffix: str = "") -> str:
    """arn:aws:organizations::MGMT:KIND/o-…SUFFIX (SUFFIX starts with / when there is one)."""
    return f"arn:aws:organizations::{mgmt}:{kind}/{organization_id(mgmt)}{suffix}"
