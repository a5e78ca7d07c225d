"""What the Organizations operations share: the organization the caller's account belongs to, and
the rule that only its management account administers it — save what it delegates to member
accounts: a delegated administrator of any AWS service reads the organization, and the
organization's resource-based delegation policy (PutResourcePolicy) grants members what it names
among the delegable actions (core.org_delegation). A member's request is judged by the policy
engine as a cross-account request on the management account's resource: the member's own
policies (and SCPs) and that resource policy must both allow it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rolehop.core.errors import AWSOrganizationsNotInUseException, OrganizationsAccessDenied
from rolehop.core.org_delegation import delegable, grant_document
from rolehop.core.organization import Organization
from rolehop.services.pipeline.authorize import ContextValue, authorize, compiled, decide, denied
from rolehop.services.pipeline.call import Call
from rolehop.services.ports.store import Tx

NOT_IN_USE = "Your account is not a member of an organization."
NO_PERMISSION = "You don't have permissions to access this resource."


def organization_of_caller(call: Call, tx: Tx) -> Organization:
    """The organization the caller's account belongs to; AWSOrganizationsNotInUseException when
    it belongs to none (a standalone account, or no organization exists yet)."""
    org = tx.get_organization()
    account = tx.get_account(call.caller.account_id)
    if org is None or account is None or not account.in_organization:
        raise AWSOrganizationsNotInUseException(NOT_IN_USE)
    return org


def _member_grant(call: Call, tx: Tx, action: str) -> str | None:
    """The resource policy that may let the caller's (member) account perform `action`: the
    delegation policy, plus read access when the account is a delegated administrator."""
    if not delegable(action):
        return None
    account = call.caller.account_id
    policy = tx.get_org_resource_policy()
    admin = any(d.account_id == account for d in tx.list_delegated_administrators())
    return grant_document(policy.content if policy else None, account if admin else None)


def management_only(
    call: Call,
    action: str,
    resource: str | Callable[[Organization], str] = "*",
    *,
    context: Mapping[str, ContextValue] | None = None,
) -> Organization:
    """The organization, once the caller may perform `action` on `resource` (an ARN, or how to
    make it from the organization) with `context` (e.g. organizations:PolicyType): the
    management account's principals as their policies say; a member account's only for what the
    organization delegates to it, else Organizations' AccessDeniedException."""
    with call.runtime.store.transaction() as tx:
        org = organization_of_caller(call, tx)
        member = call.caller.account_id != org.management_account_id
        grant = _member_grant(call, tx, action) if member else None
    target = resource(org) if callable(resource) else resource
    if not member:
        authorize(call, action, target, context=context)
        return org
    if grant is None:
        raise OrganizationsAccessDenied(NO_PERMISSION)
    policy = compiled(call.runtime, grant, f"{org.arn}#delegation")
    decision = decide(
        call,
        action,
        target,
        resource_account=org.management_account_id,
        context=context,
        resource_policy=policy,
    )
    if decision.allowed:
        return org
    if "resource" in decision.missing or "resource" in decision.denied_in:
        raise OrganizationsAccessDenied(NO_PERMISSION)  # the organization did not delegate it
    raise denied(call, action, target, decision, context)  # the member's own policies said no
