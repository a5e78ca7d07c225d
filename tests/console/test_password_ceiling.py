"""A ceiling on one user's wrong console passwords from every source address together (OWASP ASVS
2.2.1: no more than 100 failed attempts an hour on one account), on top of the per-address limits.
While a user name is held, every answer is the same throttling answer whatever the password, and a
user with an MFA device still signs in by giving the password and a code together."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import datetime, timedelta

import httpx
import pytest
from console_helpers import AK, INITIAL_PASSWORD, csrf_of, enroll_mfa

from rolehop.core.errors import AwsError
from rolehop.services.iam.login_profiles import sign_in_with_password
from support import FakeClock, LiveServer

ATTACKERS = [f"198.51.100.{n}" for n in range(1, 21)]
WRONG = "Your authentication information is incorrect"


def attempt(org: LiveServer, ip: str, user: str, password: str, *, code: str | None = None) -> httpx.Response:
    """One sign-in through the console from source address `ip`, as a fresh browser."""

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=org.app, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as browser:
            page = await browser.get("/signin")
            form = {"account": AK, "username": user, "password": password, "next": "/"}
            if code is not None:
                form["mfa_code"] = code
            return await browser.post("/signin", data={"csrf_token": csrf_of(page.text), **form})

    return asyncio.run(run())


def alert(page: httpx.Response) -> str:
    found = re.search(r'<p class="alert-title">([^<]*)</p>', page.text)
    assert found, page.text
    return found.group(1)


def wait_of(message: str) -> int:
    found = re.search(r"Try again in (\d+) seconds", message)
    assert found, message
    return int(found.group(1))


def hold_alice(org: LiveServer) -> httpx.Response:
    """Twenty addresses guess alice's password five times each at one instant (the finding's
    attack); returns the last answer."""
    verdicts, last = 0, None
    for ip in ATTACKERS:
        for n in range(5):
            last = attempt(org, ip, "alice", f"guess-{ip}-{n}")
            verdicts += WRONG in last.text
    # ten free failures, then the eleventh is answered and holds the user name for a second
    assert verdicts == 11
    assert last is not None and last.status_code == 429
    return last


def test_many_addresses_share_one_ceiling_per_user(org: LiveServer, clock: FakeClock) -> None:
    held = hold_alice(org)
    # while held, the right password gets the very answer a wrong one gets
    right = attempt(org, "203.0.113.9", "alice", INITIAL_PASSWORD)
    wrong = attempt(org, "203.0.113.9", "alice", "another-guess")
    assert right.status_code == wrong.status_code == 429
    assert alert(right) == alert(wrong) == alert(held)
    assert "user alice" in alert(right) and "MFA code" in alert(right)
    assert 'name="mfa_code"' in right.text  # the form now offers the code field
    # the delay doubles with each further wrong password
    clock.advance(wait_of(alert(held)))
    assert WRONG in attempt(org, ATTACKERS[5], "alice", "guess-a").text
    assert wait_of(alert(attempt(org, ATTACKERS[6], "alice", "guess-b"))) == 2
    # other users are not held
    assert attempt(org, ATTACKERS[7], "bob", INITIAL_PASSWORD).status_code == 303


def test_an_mfa_user_signs_in_with_password_and_code_while_held(org: LiveServer, clock: FakeClock) -> None:
    device = enroll_mfa(org, clock, "alice")
    held = alert(hold_alice(org))
    code = device.generate(clock.now)
    wrong_code = "000000" if code != "000000" else "111111"
    # a wrong password with the right code, or the right password with a wrong code: the same answer
    for password, given in ((INITIAL_PASSWORD, None), ("guess", code), (INITIAL_PASSWORD, wrong_code)):
        answer = attempt(org, "198.51.100.99", "alice", password, code=given)
        assert answer.status_code == 429 and alert(answer) == held
    # guessers sending codes with wrong passwords do not throttle alice's MFA
    for n in range(5):
        assert attempt(org, "198.51.100.50", "alice", f"guess-{n}", code=wrong_code).status_code == 429
    signed = attempt(org, "203.0.113.9", "alice", INITIAL_PASSWORD, code=code)
    assert signed.status_code == 303
    assert signed.headers["location"].startswith("/signin/password")  # her first password is due
    # a full sign-in forgives the user name's failures: the next guess is answered, not held
    assert WRONG in attempt(org, ATTACKERS[3], "alice", "guess-after").text


def test_a_user_without_mfa_waits_for_the_hold_to_end(org: LiveServer, clock: FakeClock) -> None:
    held = alert(hold_alice(org))
    answer = attempt(org, "203.0.113.9", "alice", INITIAL_PASSWORD, code="123456")
    assert answer.status_code == 429 and alert(answer) == held
    clock.advance(wait_of(held))
    assert attempt(org, "203.0.113.9", "alice", INITIAL_PASSWORD).status_code == 303


def test_no_more_than_100_wrong_passwords_an_hour_reach_one_user(org: LiveServer, clock: FakeClock) -> None:
    """Twenty addresses guess as fast as they are let, for two hours."""
    rt, start = org.app.rt, clock.now
    verdicts: list[datetime] = []
    turn = refused = 0
    for _ in range(5000):
        if clock.now >= start + timedelta(hours=2):
            break
        try:
            sign_in_with_password(
                rt, AK, "alice", f"guess-{turn}", now=clock.now, source_ip=ATTACKERS[turn % 20]
            )
        except AwsError as e:
            if e.code == "AccessDenied":
                verdicts.append(clock.now)
                turn, refused = turn + 1, 0
            elif e.code == "LimitExceeded" and refused < len(ATTACKERS):  # this address is blocked
                turn, refused = turn + 1, refused + 1
            else:
                clock.advance(wait_of(e.message))
                refused = 0
        in_last_hour = [t for t in verdicts if t > clock.now - timedelta(hours=1)]
        assert len(in_last_hour) <= 100, f"{len(in_last_hour)} answered guesses within an hour"
    assert clock.now >= start + timedelta(hours=2)


def test_simultaneous_guesses_get_one_answer_per_turn(org: LiveServer, clock: FakeClock) -> None:
    rt = org.app.rt
    for n in range(10):  # the free failures
        with pytest.raises(AwsError):
            sign_in_with_password(rt, AK, "alice", f"guess-{n}", now=clock.now, source_ip=ATTACKERS[n])
    start = threading.Barrier(8)
    codes: list[str] = []

    def guess(n: int) -> None:
        start.wait()
        try:
            sign_in_with_password(rt, AK, "alice", f"burst-{n}", now=clock.now, source_ip=ATTACKERS[10 + n])
        except AwsError as e:
            codes.append(e.code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes).count("AccessDenied") == 1, codes
