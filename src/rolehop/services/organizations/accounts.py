"""Organizations' accounts: ListAccounts, DescribeAccount, CreateAccount,
DescribeCreateAccountStatus, ListCreateAccountStatus. CreateAccount answers IN_PROGRESS as AWS does;
the account (with OrganizationAccountAccessRole trusting the management account) is ready by the
time its status is described.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from rolehop.core import arn
from rolehop.core.entities import Account, CreateAccountRequest, Identity
from rolehop.core.errors import AccountNotFoundException, CreateAccountStatusNotFoundException
from rolehop.core.ids import ROLE_PREFIX, unique_id
from rolehop.services.organizations.common import management_only, org_arn
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.store import Tx

ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def account_shape(mgmt: str, account: Account) -> dict[str, Any]:
    return {
        "Id": account.account_id,
        "Arn": org_arn(mgmt, "account", f"/{account.account_id}"),
        "Email": account.email,
        "Name": account.name,
        "Status": account.status,
        "State": account.status,
        "JoinedMethod": "INVITED" if account.is_management else "CREATED",
        "JoinedTimestamp": account.created_at,
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
    tx.put_account(account)
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
    while True:
        candidate = f"{int.from_bytes(rt.random(6), 'big') % 10**12:012d}"
        if candidate[0] != "0" and tx.get_account(candidate) is None:
            return candidate


@operation("organizations", "ListAccounts")
def list_accounts(call: Call, p: Params) -> Result:
    mgmt = management_only(call, "organizations:ListAccounts")
    with call.runtime.store.transaction() as tx:
        accounts = tx.list_accounts()
    return {"Accounts": [account_shape(mgmt, a) for a in accounts]}


@operation("organizations", "DescribeAccount")
def describe_account(call: Call, p: Params) -> Result:
    mgmt = call.runtime.settings.management_account_id
    account_id = p["AccountId"]
    management_only(call, "organizations:DescribeAccount", org_arn(mgmt, "account", f"/{account_id}"))
    with call.runtime.store.transaction() as tx:
        account = tx.get_account(account_id)
    if account is None:
        raise AccountNotFoundException("You specified an account that doesn't exist.")
    return {"Account": account_shape(mgmt, account)}


@operation("organizations", "CreateAccount")
def create_account(call: Call, p: Params) -> Result:
    management_only(call, "organizations:CreateAccount")
    rt = call.runtime
    request = CreateAccountRequest(
        "car-" + rt.random(16).hex(), p["AccountName"], p["Email"], "IN_PROGRESS", call.now
    )
    with rt.store.transaction() as tx:
        if any(a.email.lower() == request.email.lower() for a in tx.list_accounts()):
            done = replace(
                request, state="FAILED", failure_reason="EMAIL_ALREADY_EXISTS", completed_at=call.now
            )
        else:
            account = Account(new_account_id(rt, tx), request.account_name, request.email, call.now)
            create_member_account(rt, tx, account, p.get("RoleName") or ACCESS_ROLE)
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
    return {"CreateAccountStatuses": [_request_shape(r) for r in requests]}
