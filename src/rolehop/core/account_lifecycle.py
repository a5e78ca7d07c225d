"""An account's life as Organizations tells it, computed from the clock: CloseAccount makes it
PENDING_CLOSURE at once, SUSPENDED once the closure completes, and (State only) CLOSED when the
post-closure period ends; and the quotas that bound closing and joining (Organizations API
reference, CloseAccount and LeaveOrganization; User Guide, "Quotas for Organizations")."""

from __future__ import annotations

from datetime import datetime, timedelta

from rolehop.core.entities import Account

# AWS: "You need to wait a few minutes before the account is fully closed" (CloseAccount); rolehop
# completes every closure after this long (docs/decisions.md)
CLOSURE_TIME = timedelta(minutes=5)
# "Resources remaining within the account after closing will be automatically deleted after 90
# days... After 90 days, you can't reopen an account" (CloseAccount)
POST_CLOSURE_PERIOD = timedelta(days=90)
# "Within a rolling 30 day period you can close the higher of either 250 or 20% of the member
# accounts in your organization, up to a maximum of 1,000" (CloseAccount, the pinned model)
CLOSE_WINDOW = timedelta(days=30)
CLOSE_QUOTA_FLOOR = 250
CLOSE_QUOTA_PERCENT = 20
CLOSE_QUOTA_CEILING = 1000
# "You must wait until at least four days after the account was created. Invited accounts aren't
# subject to this waiting period" (LeaveOrganization; ConstraintViolation WAIT_PERIOD_ACTIVE)
REMOVAL_WAIT = timedelta(days=4)


def account_state(account: Account, now: datetime) -> str:
    """The account's State: ACTIVE, PENDING_CLOSURE, SUSPENDED, or CLOSED (permanently)."""
    if account.closed_at is None:
        return account.status
    if now < account.closed_at + CLOSURE_TIME:
        return "PENDING_CLOSURE"
    if now < account.closed_at + CLOSURE_TIME + POST_CLOSURE_PERIOD:
        return "SUSPENDED"
    return "CLOSED"


def account_status(account: Account, now: datetime) -> str:
    """The account's Status (the older field, which AWS retires in favour of State): it has no
    CLOSED, so a permanently closed account stays SUSPENDED."""
    state = account_state(account, now)
    return "SUSPENDED" if state == "CLOSED" else state


def is_closed(account: Account, now: datetime) -> bool:
    """Closed: its principals can no longer use AWS (SUSPENDED or CLOSED)."""
    return account_state(account, now) in ("SUSPENDED", "CLOSED")


def close_quota(member_accounts: int) -> int:
    """How many member accounts an organization of `member_accounts` may close in 30 days."""
    return min(CLOSE_QUOTA_CEILING, max(CLOSE_QUOTA_FLOOR, member_accounts * CLOSE_QUOTA_PERCENT // 100))


def in_removal_wait(account: Account, now: datetime) -> bool:
    """A created account may not leave (or be removed) in its first four days; invited ones may."""
    return account.joined_method == "CREATED" and now < account.created_at + REMOVAL_WAIT
