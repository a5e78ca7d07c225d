"""Organizations' accounts: ListAccounts, DescribeAccount, CreateAccount, DescribeCreateAccountStatus,
ListCreateAccountStatus, and how an account stops being a member: LeaveOrganization (by the member
itself), RemoveAccountFromOrganization (by the management account) and CloseAccount.

CreateAccount answers IN_PROGRESS as AWS does; the account (with OrganizationAccountAccessRole
trusting the management account) is ready by the time its status is described. An account's
Status/State are computed from the clock (core.account_lifecycle): CloseAccount makes it
PENDING_CLOSURE at once and SUSPENDED a few minutes later. An account that leaves becomes standalone:
outside any OU, with no policy attached to it and no tag (AWS: "accounts outside of an organization
do not support tags").
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from rolehop.core import arn
from rolehop.core.account_lifecycle import (
    CLOSE_WINDOW,
    account_state,
    account_status,
    close_quota,
    in_removal_wait,
)
from rolehop.core.entities import Account, CreateAccountRequest, Identity
from rolehop.core.errors import (
    AccountAlreadyClosedException,
    AccountNotFoundException,
    ConflictException,
    ConstraintViolationException,
    CreateAccountStatusNotFoundException,
    InvalidInputException,
    MasterCannotLeaveOrganizationException,
)
from rolehop.core.handshake_rules import is_open
from rolehop.core.ids import ROLE_PREFIX, unique_id
from rolehop.core.organization import Organization
from rolehop.services.organizations.common import management_only, organization_of_caller
from rolehop.services.organizations.paging import page
from rolehop.services.organizations.tags import put_tags_from_params
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.store import Tx

ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
# Organizations' default quota is 10 accounts, which AWS raises on request up to 10,000 (User Guide,
# "Quotas for Organizations"); a self-hosted rolehop has no one to ask, so it starts at the top.
# Pending invitations count toward it, as AWS counts them.
MAX_ACCOUNTS = 10_000
SERVICE_LINKED_PREFIX = "AWSServiceRoleFor"  # INVALID_ROLE_NAME: reserved for service-linked roles

# CreateAccount's rules for an email address (its Email member's documentation): 7-bit ASCII, one @,
# a local part without whitespace or " ' ( ) < > [ ] : ; , \ | % & that does not begin with a dot,
# and a domain of letters, digits, hyphens and dots, with at least one dot, neither beginning nor
# ending with a hyphen or a dot. Length (6 to 64) is the model's, checked by the wire.
_LOCAL = re.compile(r"[^\s\"'()<>\[\]:;,\\|%&@.][^\s\"'()<>\[\]:;,\\|%&@]*")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def is_valid_email(email: str) -> bool:
    if not email.isascii() or email.count("@") != 1:
        return False
    local, domain = email.split("@")
    return bool(_LOCAL.fullmatch(local) and _DOMAIN.fullmatch(domain) and "." in domain)


def account_shape(org: Organization, account: Account, now: datetime | None = None) -> dict[str, Any]:
    """The Account shape; Status and State as of `now` (the stored status without it)."""
    return {
        "Id": account.account_id,
        "Arn": org.resource_arn("account", f"/{account.account_id}"),
        "Email": account.email,
        "Name": account.name,
        "Status": account_status(account, now) if now else account.status,
        "State": account_state(account, now) if now else account.status,
        "JoinedMethod": account.joined_method,
        "JoinedTimestamp": account.joined_at,
    }


def _request_shape(request: CreateAccountRequest) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Id": request.request_id,
        "AccountName": request.account_name,
        "State": request.state,
        "RequestedTimestamp": request.requested_at,
    }
    if request.completed_at:
        shape["CompletedTimestamp"] = request.completed_at
    if request.account_id:
        shape["AccountId"] = request.account_id
    if request.failure_reason:
        shape["FailureReason"] = request.failure_reason
    return shape


def access_role_trust(management_account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": arn.root_arn(management_account_id)},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def create_member_account(rt: Runtime, tx: Tx, account: Account, access_role: str = ACCESS_ROLE) -> None:
    """A member account with the role through which the management account administers it."""
    tx.put_account(replace(account, joined_method="CREATED", joined_at=account.created_at))
    role = Identity(
        "role",
        unique_id(ROLE_PREFIX, rt.random(11)),
        account.account_id,
        access_role,
        "/",
        account.created_at,
        trust_policy=access_role_trust(rt.settings.management_account_id),
        max_session_duration=3600,
    )
    tx.insert_identity(role)
    admin = tx.get_policy(ADMIN_POLICY)
    if admin is not None:
        tx.attach(admin.policy_id, "role", role.unique_id)


def new_account_id(rt: Runtime, tx: Tx) -> str:
    """A 12-digit ID no account of the store has (nor the server's own, which may not exist yet)."""
    while True:
        candidate = f"{int.from_bytes(rt.random(6), 'big') % 10**12:012d}"
        taken = candidate == rt.settings.management_account_id or tx.get_account(candidate) is not None
        if candidate[0] != "0" and not taken:
            return candidate


def members_of(tx: Tx, org: Organization) -> list[Account]:
    """The organization's member accounts, the management account aside."""
    return [a for a in tx.list_accounts() if a.in_organization and a.account_id != org.management_account_id]


def accounts_counted(tx: Tx, org: Organization, now: datetime) -> int:
    """What counts toward the account quota: the organization's accounts and its open invitations."""
    invited = [h for h in tx.list_handshakes() if h.action == "INVITE" and is_open(h, now)]
    return len(members_of(tx, org)) + 1 + len(invited)


def join_organization(tx: Tx, org: Organization, account: Account, method: str, now: datetime) -> Account:
    """The account joins the organization under its root (AcceptHandshake of an invitation)."""
    joined = replace(account, joined_method=method, joined_at=now)
    tx.put_account(joined)
    tx.set_account_parent(account.account_id, org.root_id)
    return joined


def depart(tx: Tx, org: Organization, account: Account, now: datetime) -> None:
    """The member leaves (LeaveOrganization, RemoveAccountFromOrganization): standalone again, out
    of its OU, with no policy attached to it and no tag. AWS refuses while the account is a delegated
    administrator, and in the first four days of a created account (the API reference of both)."""
    if any(d.account_id == account.account_id for d in tx.list_delegated_administrators()):
        raise ConstraintViolationException(
            "The account is a delegated administrator: deregister it before it leaves the organization.",
            reason="CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG",
        )
    if in_removal_wait(account, now):
        raise ConstraintViolationException(
            "After you create an AWS account, you must wait until at least four days after the account "
            "was created before it can leave the organization.",
            reason="WAIT_PERIOD_ACTIVE",
        )
    for policy in tx.org_policies_of(account.account_id):
        tx.detach_org_policy(policy.policy_id, account.account_id)
    tx.set_account_parent(account.account_id, org.root_id)
    tx.delete_org_tags(account.account_id)
    tx.put_account(replace(account, joined_method=None, joined_at=None))


def _member(tx: Tx, account_id: str) -> Account:
    account = tx.get_account(account_id)
    if account is None or not account.in_organization:
        raise AccountNotFoundException("You specified an account that doesn't exist.")
    return account


@operation("organizations", "ListAccounts")
def list_accounts(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:ListAccounts")
    with call.runtime.store.transaction() as tx:
        accounts = [a for a in tx.list_accounts() if a.in_organization]
    found, more = page(accounts, p, lambda a: f"{a.created_at.isoformat()}|{a.account_id}")
    return {"Accounts": [account_shape(org, a, call.now) for a in found], **more}


@operation("organizations", "DescribeAccount")
def describe_account(call: Call, p: Params) -> Result:
    account_id = p["AccountId"]
    org = management_only(
        call, "organizations:DescribeAccount", lambda org: org.resource_arn("account", f"/{account_id}")
    )
    with call.runtime.store.transaction() as tx:
        account = _member(tx, account_id)
    return {"Account": account_shape(org, account, call.now)}


@operation("organizations", "CreateAccount")
def create_account(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:CreateAccount")
    rt = call.runtime
    role_name = p.get("RoleName") or ACCESS_ROLE
    if role_name.startswith(SERVICE_LINKED_PREFIX):
        raise InvalidInputException(
            "You provided a role name that isn't valid. A role name can't begin with the reserved "
            f"prefix '{SERVICE_LINKED_PREFIX}'.",
            reason="INVALID_ROLE_NAME",
        )
    if p.get("Tags"):  # AWS: a request with tags also needs organizations:TagResource
        authorize(call, "organizations:TagResource", org.resource_arn("account", "/*"))
    request = CreateAccountRequest(
        "car-" + rt.random(16).hex(), p["AccountName"], p["Email"], "IN_PROGRESS", call.now
    )
    with rt.store.transaction() as tx:
        tx.lock_account(org.management_account_id)  # the account quota, checked then written
        failure = None
        if not is_valid_email(request.email):
            failure = "INVALID_EMAIL"
        elif any(a.email.lower() == request.email.lower() for a in tx.list_accounts()):
            failure = "EMAIL_ALREADY_EXISTS"
        elif accounts_counted(tx, org, call.now) >= MAX_ACCOUNTS:
            failure = "ACCOUNT_LIMIT_EXCEEDED"
        if failure:
            done = replace(request, state="FAILED", failure_reason=failure, completed_at=call.now)
        else:
            account = Account(new_account_id(rt, tx), request.account_name, request.email, call.now)
            create_member_account(rt, tx, account, role_name)
            put_tags_from_params(tx, account.account_id, p.get("Tags"))  # a refusal undoes the account
            done = replace(request, state="SUCCEEDED", account_id=account.account_id, completed_at=call.now)
        tx.put_create_account_request(done)
    rt.changed()
    return {"CreateAccountStatus": _request_shape(request)}


@operation("organizations", "DescribeCreateAccountStatus")
def describe_create_account_status(call: Call, p: Params) -> Result:
    management_only(call, "organizations:DescribeCreateAccountStatus")
    with call.runtime.store.transaction() as tx:
        request = tx.get_create_account_request(p["CreateAccountRequestId"])
    if request is None:
        raise CreateAccountStatusNotFoundException(
            "We can't find an create account request with the CreateAccountRequestId that you specified.",
        )
    return {"CreateAccountStatus": _request_shape(request)}


@operation("organizations", "ListCreateAccountStatus")
def list_create_account_status(call: Call, p: Params) -> Result:
    management_only(call, "organizations:ListCreateAccountStatus")
    states = set(p.get("States") or ["IN_PROGRESS", "SUCCEEDED", "FAILED"])
    with call.runtime.store.transaction() as tx:
        requests = [r for r in tx.list_create_account_requests() if r.state in states]
    found, more = page(requests, p, lambda r: f"{r.requested_at.isoformat()}|{r.request_id}")
    return {"CreateAccountStatuses": [_request_shape(r) for r in found], **more}


@operation("organizations", "LeaveOrganization")
def leave_organization(call: Call, p: Params) -> Result:
    authorize(call, "organizations:LeaveOrganization", "*")
    with call.runtime.store.transaction() as tx:
        org = organization_of_caller(call, tx)
        if call.caller.account_id == org.management_account_id:
            raise MasterCannotLeaveOrganizationException(
                "You can't remove a management account from an organization. If you want the management "
                "account to become a member account in another organization, you must first delete the "
                "current organization of the management account.",
            )
        depart(tx, org, _member(tx, call.caller.account_id), call.now)
    call.runtime.changed()
    return {}


@operation("organizations", "RemoveAccountFromOrganization")
def remove_account_from_organization(call: Call, p: Params) -> Result:
    account_id = p["AccountId"]
    org = management_only(
        call,
        "organizations:RemoveAccountFromOrganization",
        lambda org: org.resource_arn("account", f"/{account_id}"),
    )
    if account_id == org.management_account_id:
        raise MasterCannotLeaveOrganizationException(
            "You can't remove the management account from the organization: delete the organization instead.",
        )
    with call.runtime.store.transaction() as tx:
        depart(tx, org, _member(tx, account_id), call.now)
    call.runtime.changed()
    return {}


@operation("organizations", "CloseAccount")
def close_account(call: Call, p: Params) -> Result:
    account_id = p["AccountId"]
    org = management_only(
        call, "organizations:CloseAccount", lambda org: org.resource_arn("account", f"/{account_id}")
    )
    if account_id == org.management_account_id:
        raise ConstraintViolationException(
            "You attempted to close the management account. To close the management account for the "
            "organization, you must first either remove or close all member accounts in the organization.",
            reason="CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
        )
    now = call.now
    with call.runtime.store.transaction() as tx:
        tx.lock_account(org.management_account_id)  # the closure quota, checked then written
        account = _member(tx, account_id)
        if org.feature_set != "ALL":
            raise ConstraintViolationException(
                "You can close an account only in an organization with all features enabled.",
                reason="ORGANIZATION_NOT_IN_ALL_FEATURES_MODE",
            )
        state = account_state(account, now)
        if state == "PENDING_CLOSURE":
            raise ConflictException("The account is already being closed.")
        if state != "ACTIVE":
            raise AccountAlreadyClosedException("You attempted to close an account that is already closed.")
        members = members_of(tx, org)
        recent = [a for a in members if a.closed_at is not None and now - a.closed_at < CLOSE_WINDOW]
        if len(recent) >= close_quota(len(members)):
            raise ConstraintViolationException(
                "You have exceeded close account quota for the past 30 days.",
                reason="CLOSE_ACCOUNT_QUOTA_EXCEEDED",
            )
        tx.put_account(replace(account, status="PENDING_CLOSURE", closed_at=now))
    call.runtime.changed()
    return {}
