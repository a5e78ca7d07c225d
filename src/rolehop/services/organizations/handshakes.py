"""Organizations' handshakes: InviteAccountToOrganization, AcceptHandshake, DeclineHandshake,
CancelHandshake, DescribeHandshake, ListHandshakesForAccount, ListHandshakesForOrganization, and
the handshakes of EnableAllFeatures (organization.py).

A handshake has two parties: the organization, which sends it (its management account acts for
it), and its recipient (an account, or an email address naming one). The recipient accepts or
declines it with its own credentials; the management account cancels it. INVITE goes to a
standalone account, which joins with JoinedMethod INVITED (and, as in AWS, without
OrganizationAccountAccessRole); ENABLE_ALL_FEATURES goes to the management account and
APPROVE_ALL_FEATURES (its children) to every invited member: once each has accepted its own, the
parent is OPEN and the management account accepting it turns on all features. Expiry (15 days) and
visibility are computed from the clock (core.handshake_rules).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from rolehop.core.entities import Account
from rolehop.core.errors import (
    AccountNotFoundException,
    DuplicateHandshakeException,
    HandshakeAlreadyInStateException,
    HandshakeConstraintViolationException,
    HandshakeNotFoundException,
    InvalidHandshakeTransitionException,
    InvalidInputException,
    OrganizationsAccessDenied,
)
from rolehop.core.handshake_rules import (
    INVITATIONS_PER_DAY,
    LIFETIME,
    OPEN_STATES,
    handshake_arn,
    is_open,
    is_recipient,
    is_shown,
    recipient,
    state_at,
)
from rolehop.core.ids import is_account_id
from rolehop.core.organization import Handshake, HandshakeParty, Organization, new_handshake_id
from rolehop.services.organizations.accounts import (
    MAX_ACCOUNTS,
    accounts_counted,
    is_valid_email,
    join_organization,
)
from rolehop.services.organizations.common import management_only
from rolehop.services.organizations.paging import page
from rolehop.services.organizations.tags import put_tags_from_params
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.store import Tx

NOT_FOUND = "We can't find a handshake with the HandshakeId that you specified."
NOT_YOURS = "You don't have permissions to access this resource."


def handshake_shape(org: Organization, handshake: Handshake, now: datetime) -> dict[str, Any]:
    return {
        "Id": handshake.handshake_id,
        "Arn": handshake_arn(org, handshake),
        "Parties": [{"Id": p.party_id, "Type": p.party_type} for p in handshake.parties],
        "State": state_at(handshake, now),
        "RequestedTimestamp": handshake.requested_at,
        "ExpirationTimestamp": handshake.expires_at,
        "Action": handshake.action,
        "Resources": json.loads(handshake.resources),
    }


def organization_resource(org: Organization, management: Account | None) -> dict[str, Any]:
    """The ORGANIZATION resource, with the management account's email and name nested in it."""
    nested = [
        {"Type": "MASTER_EMAIL", "Value": management.email if management else ""},
        {"Type": "MASTER_NAME", "Value": management.name if management else ""},
        {"Type": "ORGANIZATION_FEATURE_SET", "Value": org.feature_set},
    ]
    return {"Type": "ORGANIZATION", "Value": org.org_id, "Resources": nested}


def new_handshake(
    rt: Runtime,
    org: Organization,
    action: str,
    to: HandshakeParty,
    resources: list[dict[str, Any]],
    now: datetime,
    *,
    state: str = "OPEN",
    parent: str | None = None,
) -> Handshake:
    """A handshake from the organization to `to`; OPEN awaits the recipient (as the AWS CLI's
    examples show a fresh invitation), REQUESTED a parent awaiting its children."""
    return Handshake(
        new_handshake_id(rt.random(10)),
        action,
        state,
        (HandshakeParty(org.org_id, "ORGANIZATION"), to),
        now,
        now + LIFETIME,
        json.dumps(resources),
        parent,
    )


def children_of(tx: Tx, parent: Handshake) -> list[Handshake]:
    return [h for h in tx.list_handshakes() if h.parent_handshake_id == parent.handshake_id]


def all_approved(tx: Tx, parent: Handshake, now: datetime) -> bool:
    """Every invited account still in the organization has accepted its APPROVE_ALL_FEATURES."""
    for child in children_of(tx, parent):
        account = tx.get_account(recipient(child).party_id)
        if account is not None and account.in_organization and state_at(child, now) != "ACCEPTED":
            return False
    return True


def _close_children(tx: Tx, parent: Handshake, now: datetime) -> None:
    for child in children_of(tx, parent):
        if is_open(child, now):
            tx.put_handshake(replace(child, state="CANCELED"))


def _check_transition(handshake: Handshake, now: datetime, target: str) -> None:
    state = state_at(handshake, now)
    if state == target:
        raise HandshakeAlreadyInStateException("The specified handshake is already in the requested state.")
    if state not in OPEN_STATES:
        raise InvalidHandshakeTransitionException(
            f"You can't perform the operation on the handshake in its current state ({state})."
        )


def _visible_to(
    org: Organization | None, handshake: Handshake | None, account: Account | None, now: datetime
) -> bool:
    """A party sees a handshake: the management account (for the organization) and its recipient."""
    if org is None or handshake is None or account is None or not is_shown(handshake, now):
        return False
    return account.account_id == org.management_account_id or is_recipient(handshake, account)


def _authorized(call: Call, action: str, handshake_id: str) -> tuple[Organization, Handshake]:
    """The handshake, once the caller may `action` it. A handshake the caller is no party to is
    HandshakeNotFoundException, after authorization against any resource ("*"): who may not call the
    action learns nothing of handshakes."""
    with call.runtime.store.transaction() as tx:
        org = tx.get_organization()
        handshake = tx.get_handshake(handshake_id)
        account = tx.get_account(call.caller.account_id)
    if org is None or handshake is None or not _visible_to(org, handshake, account, call.now):
        authorize(call, action, "*", resource_account=call.caller.account_id)
        raise HandshakeNotFoundException(NOT_FOUND)
    # the ARN names the management account; for the recipient it is a request in its own account
    authorize(call, action, handshake_arn(org, handshake), resource_account=call.caller.account_id)
    return org, handshake


def _reread(tx: Tx, handshake_id: str) -> Handshake:
    handshake = tx.get_handshake(handshake_id)
    if handshake is None:  # the organization was deleted meanwhile
        raise HandshakeNotFoundException(NOT_FOUND)
    return handshake


def _move_tags(tx: Tx, source: str, target: str) -> None:
    """The tags an invitation carries become the account's when it joins."""
    tags = tx.org_tags_of(source)
    if tags:
        tx.put_org_tags(target, tags)
        tx.delete_org_tags(source)


def _filtered(handshakes: list[Handshake], p: Params) -> list[Handshake]:
    wanted = p.get("Filter") or {}
    if wanted.get("ActionType") and wanted.get("ParentHandshakeId"):
        raise InvalidInputException(
            "You can specify only one filter parameter for the operation.", reason="MAX_LIMIT_EXCEEDED_FILTER"
        )
    if wanted.get("ActionType"):
        return [h for h in handshakes if h.action == wanted["ActionType"]]
    if wanted.get("ParentHandshakeId"):
        return [h for h in handshakes if h.parent_handshake_id == wanted["ParentHandshakeId"]]
    return handshakes


def _listing(org: Organization, handshakes: list[Handshake], p: Params, now: datetime) -> Result:
    shown = _filtered([h for h in handshakes if is_shown(h, now)], p)
    found, more = page(shown, p, lambda h: f"{h.requested_at.isoformat()}|{h.handshake_id}")
    return {"Handshakes": [handshake_shape(org, h, now) for h in found], **more}


def _invitee(tx: Tx, target: dict[str, str]) -> Account:
    """The account an invitation's Target names (Type ACCOUNT or EMAIL: the model's valid inputs)."""
    kind, ident = target["Type"], target["Id"]
    if kind == "ACCOUNT":
        account = tx.get_account(ident) if is_account_id(ident) else None
        if account is None:
            raise AccountNotFoundException("You specified an account that doesn't exist.")
        return account
    if kind == "EMAIL":
        if not is_valid_email(ident):
            raise InvalidInputException(
                "You specified an invalid email address for the invited account owner.",
                reason="INVALID_EMAIL_ADDRESS_TARGET",
            )
        for account in tx.list_accounts():
            if account.email.lower() == ident.lower():
                return account
        raise AccountNotFoundException(
            "We can't find an AWS account with the email address that you specified."
        )
    raise InvalidInputException(
        "You specified the wrong type of entity (account, organization, or email) as a party.",
        reason="INVALID_PARTY_TYPE_TARGET",
    )


@operation("organizations", "InviteAccountToOrganization")
def invite_account_to_organization(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:InviteAccountToOrganization")
    rt, now = call.runtime, call.now
    target = p["Target"]
    with rt.store.transaction() as tx:
        invitee = _invitee(tx, target)
    if p.get("Tags"):  # AWS: a request with tags also needs organizations:TagResource
        authorize(call, "organizations:TagResource", org.resource_arn("account", f"/{invitee.account_id}"))
    with rt.store.transaction() as tx:
        tx.lock_account(org.management_account_id)  # quotas and duplicates, checked then written
        invitee = tx.get_account(invitee.account_id) or invitee
        if invitee.in_organization:
            raise HandshakeConstraintViolationException(
                "The handshake request is invalid because the invited account is already a member of an "
                "organization.",
                reason="ALREADY_IN_AN_ORGANIZATION",
            )
        handshakes = tx.list_handshakes()
        if any(h.action == "ENABLE_ALL_FEATURES" and is_open(h, now) for h in handshakes):
            raise HandshakeConstraintViolationException(
                "You can't issue new invitations to join an organization while it's in the process of "
                "enabling all features.",
                reason="INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES",
            )
        if any(h.action == "INVITE" and is_open(h, now) and is_recipient(h, invitee) for h in handshakes):
            raise DuplicateHandshakeException(
                "A handshake with the same action and target already exists: this account already has a "
                "pending invitation from this organization.",
            )
        sent_today = [
            h for h in handshakes if h.action == "INVITE" and now - h.requested_at < timedelta(days=1)
        ]
        if len(sent_today) >= INVITATIONS_PER_DAY:
            raise HandshakeConstraintViolationException(
                f"You attempted to exceed the number of handshakes that you can send in one day "
                f"({INVITATIONS_PER_DAY}).",
                reason="HANDSHAKE_RATE_LIMIT_EXCEEDED",
            )
        if accounts_counted(tx, org, now) >= MAX_ACCOUNTS:
            raise HandshakeConstraintViolationException(
                "You attempted to exceed the limit on the number of accounts in an organization.",
                reason="ACCOUNT_NUMBER_LIMIT_EXCEEDED",
            )
        resources = [
            organization_resource(org, tx.get_account(org.management_account_id)),
            {"Type": target["Type"], "Value": target["Id"]},
        ]
        if p.get("Notes"):
            resources.append({"Type": "NOTES", "Value": p["Notes"]})
        handshake = new_handshake(
            rt, org, "INVITE", HandshakeParty(target["Id"], target["Type"]), resources, now
        )
        tx.put_handshake(handshake)
        # kept under the handshake's ID until the account joins (tags.put_tags_from_params validates)
        put_tags_from_params(tx, handshake.handshake_id, p.get("Tags"))
    rt.changed()
    return {"Handshake": handshake_shape(org, handshake, now)}


@operation("organizations", "AcceptHandshake")
def accept_handshake(call: Call, p: Params) -> Result:
    org, handshake = _authorized(call, "organizations:AcceptHandshake", p["HandshakeId"])
    rt, now = call.runtime, call.now
    with rt.store.transaction() as tx:
        tx.lock_account(org.management_account_id)  # membership and the feature set change here
        handshake = _reread(tx, handshake.handshake_id)
        account = tx.get_account(call.caller.account_id)
        if account is None or not is_recipient(handshake, account):
            raise OrganizationsAccessDenied(NOT_YOURS)  # the sender cannot accept its own handshake
        _check_transition(handshake, now, "ACCEPTED")
        if handshake.action == "INVITE":
            if account.in_organization:
                raise HandshakeConstraintViolationException(
                    "The handshake request is invalid because the invited account is already a member of "
                    "an organization.",
                    reason="ALREADY_IN_AN_ORGANIZATION",
                )
            join_organization(tx, org, account, "INVITED", now)
            _move_tags(tx, handshake.handshake_id, account.account_id)
        elif handshake.action == "ENABLE_ALL_FEATURES":
            if not all_approved(tx, handshake, now):
                raise InvalidHandshakeTransitionException(
                    "Every invited member account must approve all features before the management "
                    "account can finalize the change.",
                )
            tx.put_organization(replace(org, feature_set="ALL"))
        handshake = replace(handshake, state="ACCEPTED")
        tx.put_handshake(handshake)
        if handshake.parent_handshake_id:  # an APPROVE_ALL_FEATURES: the last approval opens the parent
            parent = tx.get_handshake(handshake.parent_handshake_id)
            if parent is not None and parent.state == "REQUESTED" and all_approved(tx, parent, now):
                tx.put_handshake(replace(parent, state="OPEN"))
    rt.changed()
    return {"Handshake": handshake_shape(org, handshake, now)}


@operation("organizations", "DeclineHandshake")
def decline_handshake(call: Call, p: Params) -> Result:
    org, handshake = _authorized(call, "organizations:DeclineHandshake", p["HandshakeId"])
    rt, now = call.runtime, call.now
    with rt.store.transaction() as tx:
        handshake = _reread(tx, handshake.handshake_id)
        account = tx.get_account(call.caller.account_id)
        if account is None or not is_recipient(handshake, account):
            raise OrganizationsAccessDenied(NOT_YOURS)  # the sender cancels instead
        _check_transition(handshake, now, "DECLINED")
        handshake = replace(handshake, state="DECLINED")
        tx.put_handshake(handshake)
        _close_children(tx, handshake, now)
    rt.changed()
    return {"Handshake": handshake_shape(org, handshake, now)}


@operation("organizations", "CancelHandshake")
def cancel_handshake(call: Call, p: Params) -> Result:
    handshake_id = p["HandshakeId"]
    rt, now = call.runtime, call.now

    def resource(org: Organization) -> str:
        with rt.store.transaction() as tx:
            found = tx.get_handshake(handshake_id)
        return handshake_arn(org, found) if found else "*"

    org = management_only(call, "organizations:CancelHandshake", resource)
    with rt.store.transaction() as tx:
        handshake = tx.get_handshake(handshake_id)
        if handshake is None or not is_shown(handshake, now):
            raise HandshakeNotFoundException(NOT_FOUND)
        _check_transition(handshake, now, "CANCELED")
        handshake = replace(handshake, state="CANCELED")
        tx.put_handshake(handshake)
        _close_children(tx, handshake, now)
    rt.changed()
    return {"Handshake": handshake_shape(org, handshake, now)}


@operation("organizations", "DescribeHandshake")
def describe_handshake(call: Call, p: Params) -> Result:
    org, handshake = _authorized(call, "organizations:DescribeHandshake", p["HandshakeId"])
    return {"Handshake": handshake_shape(org, handshake, call.now)}


@operation("organizations", "ListHandshakesForAccount")
def list_handshakes_for_account(call: Call, p: Params) -> Result:
    """The handshakes the caller's account received; any account may ask, standalone ones included."""
    authorize(call, "organizations:ListHandshakesForAccount", "*")
    with call.runtime.store.transaction() as tx:
        org = tx.get_organization()
        account = tx.get_account(call.caller.account_id)
        handshakes = tx.list_handshakes() if org is not None and account is not None else []
    if org is None or account is None:
        return {"Handshakes": []}
    return _listing(org, [h for h in handshakes if is_recipient(h, account)], p, call.now)


@operation("organizations", "ListHandshakesForOrganization")
def list_handshakes_for_organization(call: Call, p: Params) -> Result:
    org = management_only(call, "organizations:ListHandshakesForOrganization")
    with call.runtime.store.transaction() as tx:
        handshakes = tx.list_handshakes()
    return _listing(org, handshakes, p, call.now)
