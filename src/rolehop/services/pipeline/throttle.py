"""Throttling of failed authentications (MFA codes, passwords), per user and per source address.

The counters live in the store, so every node sees the same ones and a restart forgets nothing.
A user who fails USER_LIMIT times within WINDOW seconds is refused for BLOCK seconds; so is a
source address after SOURCE_LIMIT failures (it may be guessing many users' codes). One user's
failures never throttle another user except through a shared source address, whose limit is
higher. Times come from the request (`call.now`), never from the wall clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from rolehop.core.errors import LimitExceeded
from rolehop.services.pipeline.runtime import Runtime

WINDOW = 300
BLOCK = 300
USER_LIMIT = 5
SOURCE_LIMIT = 20


@dataclass(frozen=True)
class Subject:
    """Whose failures count: the user (unique ID, "" when there is no such user; the name is for the
    message) and the source address ("" when unknown, e.g. an administrator's command)."""

    user_id: str
    user_name: str
    source_ip: str = ""
    # Unauthenticated console passwords count per user *and source*, apart from MFA codes, so a
    # stranger guessing a user's password cannot lock that user out of sign-in or of STS MFA.
    unauthenticated_password: bool = False

    @property
    def user_key(self) -> tuple[str, str]:
        if self.unauthenticated_password:
            return "password", f"{self.source_ip}|{self.user_id}"[:128]
        return "user", self.user_id

    def entries(self) -> list[tuple[str, str, int]]:
        keys = [(*self.user_key, USER_LIMIT)] if self.user_id else []
        if self.source_ip:
            keys.append(("source", self.source_ip, SOURCE_LIMIT))
        return keys


def check_not_throttled(rt: Runtime, who: Subject, now: datetime) -> None:
    """Raises LimitExceeded while the user or the source address is blocked (before any code is checked)."""
    with rt.store.transaction() as tx:
        for scope, subject, _limit in who.entries():
            found = tx.get_throttle(scope, subject)
            if found is not None and found.blocked_until is not None and now < found.blocked_until:
                wait = math.ceil((found.blocked_until - now).total_seconds())
                whom = f"source address {subject}" if scope == "source" else f"user {who.user_name}"
                raise LimitExceeded(
                    f"Too many failed authentication attempts for {whom}. Try again in {wait} seconds."
                )


def record_failure(rt: Runtime, who: Subject, now: datetime) -> None:
    """Counts a failure, in its own transaction so that it stays counted although the request fails."""
    with rt.store.transaction() as tx:
        for scope, subject, limit in who.entries():
            counted = tx.add_failure(scope, subject, now, WINDOW)
            if counted.failures >= limit:
                tx.block(scope, subject, now + timedelta(seconds=BLOCK))


def record_success(rt: Runtime, who: Subject) -> None:
    """A successful authentication forgets the user's failures (not the source address's)."""
    with rt.store.transaction() as tx:
        tx.clear_throttle(*who.user_key)


def release(rt: Runtime, user_id: str) -> None:
    with rt.store.transaction() as tx:
        tx.clear_throttle("user", user_id)
