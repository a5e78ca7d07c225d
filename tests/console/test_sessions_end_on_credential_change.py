"""Console sessions end when the user's credentials change (OWASP ASVS 3.3.3): a new password (one's
own, from the console or iam:ChangePassword, or an administrator's UpdateLoginProfile), a removed
password (DeleteLoginProfile) and a deactivated MFA device end every other console session of that
user, on every node; the session that made the change carries on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import AK, INITIAL_PASSWORD, NEW_PASSWORD, ConsoleClient, enroll_mfa

from rolehop.core.totp import Totp
from rolehop.services.iam.mfa import reset_user_mfa
from support import FakeClock, LiveServer

THIRD_PASSWORD = "Third-Passw0rd-99!"


def signed_in(browser: ConsoleClient) -> bool:
    """Whether the browser's session still opens the console's home page."""
    home = browser.get("/")
    if home.status_code == 200:
        return True
    assert home.headers["location"].startswith("/signin"), home.headers
    return False


def sign_in_with_mfa(
    browser: ConsoleClient, user: str, password: str, device: Totp, clock: FakeClock
) -> None:
    clock.advance(30)  # a fresh code: each time step signs in once
    assert browser.sign_in(user, password).headers["location"].startswith("/signin/mfa")
    done = browser.post_form("/signin/mfa", {"code": device.generate(clock.now)})
    assert done.status_code == 303, done.text
    if done.headers["location"].startswith("/signin/password"):
        changed = browser.post_form(
            "/signin/password",
            {"old_password": password, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        )
        assert changed.status_code == 303, changed.text
    assert signed_in(browser)


@pytest.fixture
def browsers(org: LiveServer) -> Iterator[list[ConsoleClient]]:
    """Three more browsers beside `client`, closed at the end."""
    opened = [ConsoleClient(org) for _ in range(3)]
    yield opened
    for browser in opened:
        browser.close()


def test_changing_ones_password_in_the_console_ends_ones_other_sessions(
    client: ConsoleClient, browsers: list[ConsoleClient]
) -> None:
    halfway, other, bob = browsers
    # a session still waiting for its new password ends when another browser sets one
    assert halfway.sign_in("alice", INITIAL_PASSWORD).headers["location"].startswith("/signin/password")
    client.sign_in_fresh("alice")  # the forced first change, in this browser
    assert signed_in(client)
    assert halfway.get("/signin/password").headers.get("location") == "/signin"
    other.sign_in("alice", NEW_PASSWORD)
    bob.sign_in_fresh("bob")
    assert signed_in(other) and signed_in(bob)
    changed = client.post_form(
        "/iam/users/alice/password",
        {"old_password": NEW_PASSWORD, "new_password": THIRD_PASSWORD, "confirm_password": THIRD_PASSWORD},
    )
    assert changed.status_code == 303, changed.text
    assert signed_in(client)  # the session that changed the password carries on
    assert not signed_in(other)
    assert signed_in(bob)  # another user's sessions are not touched
    other.sign_in("alice", THIRD_PASSWORD)
    assert signed_in(other)


def test_change_password_through_the_api_ends_every_console_session(
    org: LiveServer, client: ConsoleClient, browsers: list[ConsoleClient]
) -> None:
    client.sign_in_fresh("alice")
    browsers[0].sign_in("alice", NEW_PASSWORD)
    keys = org.client("iam").create_access_key(UserName="alice")["AccessKey"]
    org.client_for("iam", keys).change_password(OldPassword=NEW_PASSWORD, NewPassword=THIRD_PASSWORD)
    assert not signed_in(client) and not signed_in(browsers[0])


def test_an_administrators_update_login_profile_ends_the_users_sessions(
    org: LiveServer, client: ConsoleClient, browsers: list[ConsoleClient]
) -> None:
    iam = org.client("iam")
    client.sign_in_fresh("alice")
    browsers[0].sign_in_fresh("bob")
    # the session length is no credential: sessions carry on (new ones get the new length)
    iam.update_login_profile(UserName="alice", MaxSigninSessionDuration=3600)
    assert signed_in(client)
    iam.update_login_profile(UserName="alice", Password=THIRD_PASSWORD)
    assert not signed_in(client)
    assert signed_in(browsers[0])
    client.sign_in("alice", THIRD_PASSWORD)
    assert signed_in(client)
    # requiring a new password ends them too: the next sign-in asks for it
    iam.update_login_profile(UserName="alice", PasswordResetRequired=True)
    assert not signed_in(client)
    assert client.sign_in("alice", THIRD_PASSWORD).headers["location"].startswith("/signin/password")


def test_deleting_the_login_profile_ends_the_users_sessions(
    org: LiveServer, client: ConsoleClient, browsers: list[ConsoleClient]
) -> None:
    client.sign_in_fresh("alice")
    halfway = browsers[0]
    assert halfway.sign_in("bob", INITIAL_PASSWORD).headers["location"].startswith("/signin/password")
    iam = org.client("iam")
    iam.delete_login_profile(UserName="alice")
    iam.delete_login_profile(UserName="bob")
    assert not signed_in(client)
    assert halfway.get("/signin/password").headers.get("location") == "/signin"


def test_deactivating_an_mfa_device_ends_the_users_other_sessions(
    org: LiveServer, client: ConsoleClient, browsers: list[ConsoleClient], clock: FakeClock
) -> None:
    alices, bobs = enroll_mfa(org, clock, "alice"), enroll_mfa(org, clock, "bob")
    other, bob = browsers[0], browsers[1]
    sign_in_with_mfa(client, "alice", INITIAL_PASSWORD, alices, clock)
    sign_in_with_mfa(other, "alice", NEW_PASSWORD, alices, clock)
    sign_in_with_mfa(bob, "bob", INITIAL_PASSWORD, bobs, clock)
    # alice removes her own device in one browser: that one carries on, her other one ends
    removed = client.post_form(
        "/iam/users/alice/mfa/remove",
        {"serial": f"arn:aws:iam::{AK}:mfa/alice"},
        from_page="/iam/users/alice/mfa",
    )
    assert removed.status_code == 303, removed.text
    assert signed_in(client) and not signed_in(other)
    assert signed_in(bob)
    # an administrator deactivating bob's device ends bob's sessions
    org.client("iam").deactivate_mfa_device(UserName="bob", SerialNumber=f"arn:aws:iam::{AK}:mfa/bob")
    assert not signed_in(bob)


def test_an_operators_mfa_reset_ends_the_users_sessions(
    org: LiveServer, client: ConsoleClient, clock: FakeClock
) -> None:
    sign_in_with_mfa(client, "alice", INITIAL_PASSWORD, enroll_mfa(org, clock, "alice"), clock)
    reset_user_mfa(org.app.rt, AK, "alice")  # `rolehop mfa reset alice`: a lost phone
    assert not signed_in(client)


@pytest.fixture
def nodes(tmp_path: Path, clock: FakeClock, pg_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    a = LiveServer(tmp_path / "shared", clock, database_url=pg_url)
    b = LiveServer(tmp_path / "shared", clock, database_url=pg_url)  # same key ring file
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_sessions_end_on_every_node_at_once(nodes: tuple[LiveServer, LiveServer], clock: FakeClock) -> None:
    a, b = nodes
    iam = a.client("iam")
    iam.create_user(UserName="carol")
    iam.create_login_profile(UserName="carol", Password=NEW_PASSWORD)
    on_a, on_b = ConsoleClient(a), ConsoleClient(b)
    try:
        on_a.sign_in("carol", NEW_PASSWORD, account=a.account_id)
        on_b.sign_in("carol", NEW_PASSWORD, account=b.account_id)
        assert signed_in(on_a) and signed_in(on_b)
        # an administrator on node b resets the password: node a's session ends at once (no cache)
        b.client("iam").update_login_profile(UserName="carol", Password=THIRD_PASSWORD)
        assert not signed_in(on_a) and not signed_in(on_b)
    finally:
        on_a.close()
        on_b.close()
