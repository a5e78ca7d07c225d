"""The federation endpoint: a console session from AssumeRole credentials, with AWS's rules."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from console_helpers import AK, PRODUCTION, ConsoleClient
from playwright.sync_api import expect

from support import FakeClock, LiveServer

ROLE = "console-reader"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{AK}:user/ops"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture
def ops(org: LiveServer) -> dict[str, Any]:
    """A user whose keys may assume a read-only role, and its long-term keys."""
    iam = org.client("iam")
    iam.create_user(UserName="ops")
    iam.put_user_policy(
        UserName="ops",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=7200)
    iam.attach_role_policy(RoleName=ROLE, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    return iam.create_access_key(UserName="ops")["AccessKey"]


def role_credentials(org: LiveServer, keys: dict[str, Any], **extra: Any) -> dict[str, Any]:
    sts = org.client_for("sts", keys)
    return sts.assume_role(RoleArn=f"arn:aws:iam::{AK}:role/{ROLE}", RoleSessionName="ops-console", **extra)[
        "Credentials"
    ]


def session_param(creds: dict[str, Any]) -> str:
    return json.dumps(
        {
            "sessionId": creds["AccessKeyId"],
            "sessionKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
        }
    )


def signin_token(client: ConsoleClient, creds: dict[str, Any], **params: str) -> httpx.Response:
    return client.get(
        "/federation", params={"Action": "getSigninToken", "Session": session_param(creds), **params}
    )


def login_url(org: LiveServer, token: str, destination: str = "/iam/roles") -> str:
    query = urlencode(
        {
            "Action": "login",
            "Issuer": "https://broker.example/",
            "Destination": destination,
            "SigninToken": token,
        }
    )
    return f"{org.url}/federation?{query}"


def test_a_federation_url_opens_a_console_session_as_the_role(
    browser: Any, org: LiveServer, ops: dict[str, Any], client: ConsoleClient
) -> None:
    response = signin_token(client, role_credentials(org, ops))
    assert response.status_code == 200
    token = response.json()["SigninToken"]
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(login_url(org, token))
        expect(page).to_have_url(re.compile(r"/iam/roles$"))
        expect(page.locator("#account-menu-button")).to_have_text(re.compile(f"{ROLE}/ops-console"))
        expect(page.get_by_role("link", name=ROLE)).to_be_visible()  # ReadOnlyAccess lists roles
        expect(page.get_by_text("You signed in without MFA.")).to_have_count(0)
        page.locator("#account-menu-button").click()
        menu = page.locator("#account-menu")
        expect(menu.get_by_role("link", name="Switch Role")).to_have_count(0)  # a role cannot switch here
        menu.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("link", name="Return to where you signed in")).to_have_attribute(
            "href", "https://broker.example/"
        )
    finally:
        context.close()


def test_sign_in_tokens_are_single_use_and_last_fifteen_minutes(
    org: LiveServer, ops: dict[str, Any], client: ConsoleClient, clock: FakeClock
) -> None:
    creds = role_credentials(org, ops)
    token = signin_token(client, creds).json()["SigninToken"]
    first = client.get(login_url(org, token))
    assert first.status_code == 303 and first.headers["location"] == "/iam/roles"
    assert "rolehop-session=" in first.headers["set-cookie"]
    again = client.get(login_url(org, token))
    assert again.status_code == 400 and "already been used" in again.text
    late = signin_token(client, creds).json()["SigninToken"]
    clock.advance(15 * 60)
    expired = client.get(login_url(org, late))
    assert expired.status_code == 400 and "valid for 15 minutes" in expired.text


def test_only_role_credentials_may_sign_in(
    org: LiveServer, ops: dict[str, Any], client: ConsoleClient
) -> None:
    session = org.client_for("sts", ops).get_session_token()["Credentials"]
    refused = signin_token(client, session)
    assert refused.status_code == 400
    assert refused.text == (
        "Only federation tokens or assume role tokens may be used for federated login. "
        "Please contact your administrator."
    )
    creds = role_credentials(org, ops)
    posted = client.http.post(
        "/federation", data={"Action": "getSigninToken", "Session": session_param(creds)}
    )
    assert posted.status_code == 200 and posted.json()["SigninToken"]  # a form POST works as well
    wrong_secret = {**creds, "SecretAccessKey": "x" * 40}
    assert signin_token(client, wrong_secret).status_code == 400
    assert client.get("/federation", params={"Action": "getSigninToken", "Session": "{"}).status_code == 400
    assert client.get("/federation", params={"Action": "nothing"}).status_code == 400
    garbage = client.get(login_url(org, "not-a-token"))
    assert garbage.status_code == 400 and "not valid" in garbage.text


def test_session_duration_rules(
    org: LiveServer, ops: dict[str, Any], client: ConsoleClient, clock: FakeClock
) -> None:
    creds = role_credentials(org, ops)  # one hour
    for bad in ("899", "43201", "soon"):
        assert signin_token(client, creds, SessionDuration=bad).status_code == 400
    token = signin_token(client, creds, SessionDuration="43200").json()["SigninToken"]
    assert client.get(login_url(org, token, "/")).status_code == 303
    clock.advance(6 * 3600)  # the credentials are long gone; the console session is not
    assert client.get("/iam/roles").status_code == 200
    clock.advance(6 * 3600)
    assert client.get("/iam/roles").status_code == 303
    # without SessionDuration the console session lasts as long as the credentials
    short = role_credentials(org, ops, DurationSeconds=900)
    other = ConsoleClient(org)
    assert other.get(login_url(org, signin_token(other, short).json()["SigninToken"], "/")).status_code == 303
    clock.advance(899)
    assert other.get("/").status_code == 200
    clock.advance(1)
    assert other.get("/").status_code == 303
    other.close()


def test_destination_must_be_this_console(
    org: LiveServer, ops: dict[str, Any], client: ConsoleClient
) -> None:
    for destination, landing in (
        ("https://evil.example/steal", "/"),
        ("//evil.example/", "/"),
        (f"{org.url}/iam/users", "/iam/users"),
        ("https://console.aws.amazon.com/", "/"),
    ):
        token = signin_token(client, role_credentials(org, ops)).json()["SigninToken"]
        assert client.get(login_url(org, token, destination)).headers["location"] == landing


def test_role_chained_credentials_cannot_ask_for_long_sessions(
    org: LiveServer, ops: dict[str, Any], client: ConsoleClient
) -> None:
    iam = org.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{AK}:role/{ROLE}"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="chained", AssumeRolePolicyDocument=json.dumps(trust))
    first = role_credentials(org, ops)
    chained = org.client_for("sts", first).assume_role(
        RoleArn=f"arn:aws:iam::{AK}:role/chained", RoleSessionName="hop"
    )["Credentials"]
    refused = signin_token(client, chained, SessionDuration="7200")
    assert refused.status_code == 400 and "role chaining" in refused.text
    assert signin_token(client, chained, SessionDuration="3600").status_code == 200
    assert PRODUCTION  # the example's accounts exist alongside
