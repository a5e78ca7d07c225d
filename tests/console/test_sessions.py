"""Console sessions over plain HTTP: cookies, expiry, sign-out, CSRF, throttling, headers, routing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from console_helpers import (
    ADMIN_ROLE,
    AK,
    INITIAL_PASSWORD,
    NEW_PASSWORD,
    PRODUCTION,
    ConsoleClient,
    csrf_of,
    enroll_mfa,
)

from rolehop.core.keyring import Key
from support import FakeClock, LiveServer


def signed_in_as(client: ConsoleClient) -> str | None:
    home = client.get("/")
    if home.status_code != 200:
        return None
    assert 'id="account-menu-button"' in home.text
    return home.text.split('class="identity-label">', 1)[1].split("<", 1)[0]


def test_session_cookie_is_http_only_same_site_and_server_side(client: ConsoleClient) -> None:
    signin = client.get("/signin")
    assert "rolehop-signin=" in signin.headers["set-cookie"]
    response = client.sign_in("alice", INITIAL_PASSWORD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("rolehop-session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here; see the HTTPS test
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # the server decides the end
    # the cookie is only a key: nothing about the user is in it
    assert "alice" not in cookie and AK not in cookie


def test_https_cookies_are_secure_with_the_host_prefix(org: LiveServer) -> None:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=org.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://console.example") as c:
            page = await c.get("/signin")
            assert "__Host-rolehop-signin=" in page.headers["set-cookie"]
            assert "Secure" in page.headers["set-cookie"]
            form = {"account": AK, "username": "alice", "password": INITIAL_PASSWORD, "next": "/"}
            return await c.post("/signin", data={"csrf_token": csrf_of(page.text), **form})

    response = asyncio.run(run())
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-rolehop-session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "strict-transport-security" in response.headers


def test_first_sign_in_forces_a_new_password_before_anything_else(client: ConsoleClient) -> None:
    first = client.sign_in("alice", INITIAL_PASSWORD)
    assert first.headers["location"] == "/signin/password?next=%2F"
    for path in ("/", "/iam/users", "/switchrole"):
        assert client.get(path).headers["location"] == "/signin/password"
    weak = client.post_form(
        "/signin/password",
        {"old_password": INITIAL_PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 400 and "Password should have a minimum length" in weak.text
    client.post_form(
        "/signin/password",
        {"old_password": INITIAL_PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert signed_in_as(client) == "alice @ aster-key"


def test_sign_out_revokes_the_session_on_the_server(client: ConsoleClient, org: LiveServer) -> None:
    client.sign_in_fresh("alice")
    stolen = client.http.cookies.get("rolehop-session")
    assert stolen
    out = client.post_form("/signout", {}, from_page="/")
    assert out.headers["location"] == "/signin?signed_out=1"
    assert client.get("/").status_code == 303
    replay = httpx.Client(base_url=org.url, cookies={"rolehop-session": stolen}, follow_redirects=False)
    assert replay.get("/iam/users").headers["location"].startswith("/signin")


def test_sessions_expire_after_twelve_hours(client: ConsoleClient, clock: FakeClock) -> None:
    client.sign_in_fresh("alice")
    clock.advance(12 * 3600 - 1)
    assert signed_in_as(client) == "alice @ aster-key"
    clock.advance(1)
    assert client.get("/").headers["location"] == "/signin?next=%2F"


def test_posts_without_a_valid_csrf_token_are_refused(client: ConsoleClient, org: LiveServer) -> None:
    # signed out: the sign-in form itself
    client.get("/signin")
    bare = client.http.post(
        "/signin", data={"account": AK, "username": "alice", "password": INITIAL_PASSWORD}
    )
    assert bare.status_code == 403 and "could not be verified" in bare.text
    # a token from another browser does not fit this browser's cookie
    other = ConsoleClient(org)
    foreign = csrf_of(other.get("/signin").text)
    other.close()
    forged = client.http.post(
        "/signin",
        data={"csrf_token": foreign, "account": AK, "username": "alice", "password": INITIAL_PASSWORD},
    )
    assert forged.status_code == 403
    # signed in: a forged switch, sign-out and access key are refused and change nothing
    client.sign_in_fresh("alice")
    for path, data in (
        ("/switchrole", {"account": PRODUCTION, "role": ADMIN_ROLE}),
        ("/signout", {}),
        ("/iam/users/alice/access-keys", {}),
        ("/switchback", {}),
    ):
        refused = client.http.post(path, data=data)
        assert refused.status_code == 403, path
        wrong = client.http.post(path, data={**data, "csrf_token": "x" * 43})
        assert wrong.status_code == 403, path
    assert signed_in_as(client) == "alice @ aster-key"
    keys = org.client("iam").list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert keys == []
    # a right token from another origin is refused too (defence in depth)
    token = csrf_of(client.get("/").text)
    cross = client.http.post(
        "/signout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert signed_in_as(client) == "alice @ aster-key"


def test_wrong_passwords_are_throttled_with_a_clear_message(client: ConsoleClient, clock: FakeClock) -> None:
    for _ in range(5):
        wrong = client.sign_in("alice", "not-the-password")
        assert wrong.status_code == 401
        assert "Your authentication information is incorrect" in wrong.text
    blocked = client.sign_in("alice", INITIAL_PASSWORD)  # even the right password, while blocked
    assert blocked.status_code == 429
    assert "Too many failed authentication attempts for user alice" in blocked.text
    # an unknown user or account answers like a wrong password
    assert "Your authentication information is incorrect" in client.sign_in("nobody", "x").text
    assert "Your authentication information is incorrect" in client.sign_in("alice", "x", account="nope").text
    clock.advance(301)
    assert client.sign_in("alice", INITIAL_PASSWORD).headers["location"].startswith("/signin/password")


def test_mfa_codes_are_checked_throttled_and_used_once(
    client: ConsoleClient, org: LiveServer, clock: FakeClock
) -> None:
    device = enroll_mfa(org, clock, "alice")
    response = client.sign_in("alice", INITIAL_PASSWORD)
    assert response.headers["location"] == "/signin/mfa?next=%2F"
    assert client.get("/").headers["location"] == "/signin/mfa"  # nothing else until the code is in
    wrong = client.post_form(
        "/signin/mfa", {"code": "000000" if device.generate(clock.now) != "000000" else "111111"}
    )
    assert wrong.status_code == 401 and "invalid MFA one time pass code" in wrong.text
    code = device.generate(clock.now)
    assert client.post_form("/signin/mfa", {"code": code}).headers["location"].startswith("/signin/password")
    # the same code cannot sign in a second browser
    again = ConsoleClient(org)
    again.sign_in("alice", INITIAL_PASSWORD)
    replay = again.post_form("/signin/mfa", {"code": code})
    assert replay.status_code == 401
    for _ in range(4):
        again.post_form("/signin/mfa", {"code": "123456"})
    throttled = again.post_form("/signin/mfa", {"code": device.generate(clock.now)})
    assert throttled.status_code == 429 and "Too many failed authentication attempts" in throttled.text
    again.close()


def test_security_headers_and_no_caching(client: ConsoleClient) -> None:
    page = client.get("/signin")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert client.get("/static/console.css").status_code == 200


def test_the_api_and_the_console_share_the_port(org: LiveServer, client: ConsoleClient) -> None:
    assert org.client("sts").get_caller_identity()["Account"] == AK  # SigV4 still goes to the API
    assert client.get("/_rolehop/health").json()["status"] == "ok"
    assert client.get("/signin").headers["content-type"].startswith("text/html")
    # an unsigned Action request is the API's (unsigned STS calls), not the console's
    unsigned = client.get("/?Action=GetCallerIdentity&Version=2011-06-15")
    assert unsigned.headers["content-type"].startswith("text/xml")
    assert client.get("/no/such/page").status_code == 404


def test_next_page_after_sign_in_stays_on_this_site(client: ConsoleClient) -> None:
    assert client.get("/iam/roles").headers["location"] == "/signin?next=%2Fiam%2Froles"
    form = {"account": AK, "username": "alice", "password": INITIAL_PASSWORD, "next": "https://evil.example/"}
    response = client.post_form("/signin", form)
    assert response.headers["location"] == "/signin/password?next=%2F"


@pytest.mark.parametrize("account", [AK, "7777-6404-0422", "aster-key"])
def test_sign_in_by_account_id_or_alias(client: ConsoleClient, account: str) -> None:
    assert client.sign_in("alice", INITIAL_PASSWORD, account=account).status_code == 303


def test_a_page_loaded_before_a_key_rotation_still_posts(client: ConsoleClient, org: LiveServer) -> None:
    """Promoting a new sealing key (rolehop keys promote, then a restart) must not turn every open
    console page's form into a CSRF failure: the old key still opens, so its tokens still vouch."""
    client.sign_in_fresh("alice")
    token = csrf_of(client.get("/").text)  # made under k1
    rt = org.app.rt
    rt.ring = rt.ring.with_key(Key("k2", b"\x02" * 32)).promoted("k2")  # what a restarted node loads
    assert csrf_of(client.get("/").text) != token  # new pages carry k2's token
    signed_out = client.http.post("/signout", data={"csrf_token": token})
    assert signed_out.status_code == 303
    assert client.get("/").status_code in (302, 303)  # the sign-out took effect


def test_a_console_pages_request_is_logged_with_who_acted(
    client: ConsoleClient, org: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request log names the principal of a console page as it names an API caller's: the user,
    or the role switched to. (A stand-in for the log writer catches what the app hands it.)"""
    seen: list[tuple[str, str, str]] = []
    monkeypatch.setattr(
        "rolehop.app.logs.request_line",
        lambda s, method, path, status, seconds: seen.append((path, s.service, s.principal)),
    )
    client.get("/signin")
    client.sign_in_fresh("alice")
    client.get("/iam/users")
    assert ("/signin", "console", "") in seen  # nobody yet
    assert ("/iam/users", "console", f"arn:aws:iam::{org.account_id}:user/alice") in seen
