"""Organizations' handshakes as rules over values: when one has expired, how long it stays visible,
who its recipient is, and its ARN (Organizations API reference: Handshake, HandshakeParty,
InviteAccountToOrganization; User Guide, "Quotas for Organizations")."""

from __future__ import annotations

from datetime import datetime, timedelta

from rolehop.core.entities import Account
from rolehop.core.organization import Handshake, HandshakeParty, Organization

# the AWS CLI's examples of InviteAccountToOrganization and EnableAllFeatures: ExpirationTimestamp is
# RequestedTimestamp + 1,296,000 s (15 days)
LIFETIME = timedelta(days=15)
# "Handshakes that are CANCELED, ACCEPTED, DECLINED, or EXPIRED show up in lists for only 30 days
# after entering that state". rolehop keeps no time of the change: a handshake is closed at the
# latest when it expires, so it is shown until 30 days after its expiry (docs/decisions.md)
SHOWN_AFTER_EXPIRY = timedelta(days=30)
OPEN_STATES = ("REQUESTED", "OPEN")
# Quotas: "Invitations sent per day: 20"
INVITATIONS_PER_DAY = 20


def state_at(handshake: Handshake, now: datetime) -> str:
    """The handshake's state: an open one past its expiry is EXPIRED."""
    if handshake.state in OPEN_STATES and now >= handshake.expires_at:
        return "EXPIRED"
    return handshake.state


def is_open(handshake: Handshake, now: datetime) -> bool:
    return state_at(handshake, now) in OPEN_STATES


def is_shown(handshake: Handshake, now: datetime) -> bool:
    return now < handshake.expires_at + SHOWN_AFTER_EXPIRY


def recipient(handshake: Handshake) -> HandshakeParty:
    """The party that receives it (an account, or an email address); the other is the organization."""
    return next(p for p in handshake.parties if p.party_type != "ORGANIZATION")


def is_recipient(handshake: Handshake, account: Account) -> bool:
    party = recipient(handshake)
    if party.party_type == "EMAIL":
        return party.party_id.lower() == account.email.lower()
    return party.party_id == account.account_id


def handshake_arn(org: Organization, handshake: Handshake) -> str:
    """arn:aws:organizations::MGMT:handshake/o-…/invite/h-… (the action, lower-cased)."""
    return org.resource_arn("handshake", f"/{handshake.action.lower()}/{handshake.handshake_id}")
