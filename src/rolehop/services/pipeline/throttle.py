"""Throttling of failed authentications (MFA codes, passwords), per user and per source address, and a
ceiling on guesses at one user's console password from every source address together.

The counters live in the store, so every node sees the same ones and a restart forgets nothing.
A user who fails USER_LIMIT times within WINDOW seconds is refused for BLOCK seconds; so is a
source address after SOURCE_LIMIT failures (it may be guessing many users' codes). One user's
failures never throttle another user except through a shared source address, whose limit is
higher. Times come from the request (`call.now`), never from the wall clock.

Console passwords come from anyone, so they are blocked per user *and* source address (a stranger
cannot lock the user out from elsewhere), and they meet a ceiling per user from every address
together (OWASP ASVS 2.2.1: at most 100 failed attempts an hour on one account). The ceiling is a
delay, not a lockout: CEILING_FREE attempts within CEILING_WINDOW pass, then each attempt holds the
user name for twice as long as the one before, 1 s up to CEILING_MAX_DELAY. So 30 guesses at most
get an answer in a window, 60 in any hour (one hour meets two windows at most). While a name is
held its password is not looked at and every answer is the same Throttling, so the hold tells
nothing about the password. A user with an MFA device signs in all the same by giving a code with
the password (iam.login_profiles.sign_in_with_password); one without waits out the hold, at most
CEILING_MAX_DELAY after the last guess, and a right password then forgets the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from rolehop.core.entities import AuthThrottle
from rolehop.core.errors import LimitExceeded, Throttling
from rolehop.services.pipeline.runtime import Runtime

WINDOW = 300
BLOCK = 300
USER_LIMIT = 5
SOURCE_LIMIT = 20

CEILING_WINDOW = 3600
CEILING_FREE = 10
CEILING_MAX_DELAY = 300
CEILING_COUNT = "password-user"  # a user name's password attempts in the window, from every address
CEILING_HOLD = "password-hold"  # until when it is held: a row of its own, as block() restarts a count


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


def _seconds_left(found: AuthThrottle | None, now: datetime) -> int:
    if found is None or found.blocked_until is None or now >= found.blocked_until:
        return 0
    return math.ceil((found.blocked_until - now).total_seconds())


def check_not_throttled(rt: Runtime, who: Subject, now: datetime) -> None:
    """Raises LimitExceeded while the user or the source address is blocked (before any code is checked)."""
    with rt.store.transaction() as tx:
        for scope, subject, _limit in who.entries():
            wait = _seconds_left(tx.get_throttle(scope, subject), now)
            if wait:
                rt.meter.auth_throttled()
                whom = f"source address {subject}" if scope == "source" else f"user {who.user_name}"
                raise LimitExceeded(
                    f"Too many failed authentication attempts for {whom}. Try again in {wait} seconds."
                )


def record_failure(rt: Runtime, who: Subject, now: datetime, *, factor: str = "mfa") -> None:
    """Counts a failure (of an MFA code or a password: `factor`), in its own transaction so that it
    stays counted although the request fails."""
    rt.meter.auth_failure(factor)
    with rt.store.transaction() as tx:
        for scope, subject, limit in who.entries():
            counted = tx.add_failure(scope, subject, now, WINDOW)
            if counted.failures >= limit:
                tx.block(scope, subject, now + timedelta(seconds=BLOCK))


def ceiling_delay(attempts: int) -> int:
    """Seconds a user name is held after its `attempts`-th password attempt within the window."""
    if attempts <= CEILING_FREE:
        return 0
    return min(1 << min(attempts - CEILING_FREE - 1, 16), CEILING_MAX_DELAY)


class _Held(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def take_password_turn(rt: Runtime, who: Subject, now: datetime) -> int:
    """Counts an attempt at `who`'s password against the ceiling before the password is checked, and
    holds the user name for the attempt after it. Returns 0, or the seconds left while the name is
    held (then nothing is counted). Attempts at one instant queue on the count's row lock, so each
    sees the hold the one before it set: a burst gets one answer, not one per request."""
    try:
        with rt.store.transaction() as tx:
            counted = tx.add_failure(CEILING_COUNT, who.user_id, now, CEILING_WINDOW)
            held = _seconds_left(tx.get_throttle(CEILING_HOLD, who.user_id), now)
            if held:
                raise _Held(held)  # rolls the count back: a refused attempt costs the user nothing
            delay = ceiling_delay(counted.failures)
            if delay:
                tx.add_failure(CEILING_HOLD, who.user_id, now, CEILING_WINDOW)  # the row block() updates
                tx.block(CEILING_HOLD, who.user_id, now + timedelta(seconds=delay))
    except _Held as e:
        return e.seconds
    return 0


def held_answer(who: Subject, seconds: int) -> Throttling:
    """The one answer while a user name is held, whatever the password (or code) was."""
    return Throttling(
        f"Too many failed sign-in attempts for user {who.user_name}. Try again in {seconds} seconds, "
        "or sign in now with your password and an MFA code."
    )


def record_success(rt: Runtime, who: Subject) -> None:
    """A successful authentication forgets the user's failures (not the source address's), and a
    right console password the user name's attempts against the ceiling."""
    with rt.store.transaction() as tx:
        tx.clear_throttle(*who.user_key)
        if who.unauthenticated_password:
            tx.clear_throttle(CEILING_COUNT, who.user_id)
            tx.clear_throttle(CEILING_HOLD, who.user_id)


def release(rt: Runtime, user_id: str) -> None:
    with rt.store.transaction() as tx:
        tx.clear_throttle("user", user_id)
