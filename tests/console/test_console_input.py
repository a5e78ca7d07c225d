"""The console's forms, addresses and query strings: a NUL character anywhere (which no store keeps,
PostgreSQL's text refuses it) is refused with a 400 page, on SQLite and PostgreSQL. Never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_helpers import ConsoleClient

from support import FakeClock, LiveServer

PASSWORD = "Correct-Horse-42!"
REFUSED = "contains a NUL character"


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    url = None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    live = LiveServer(tmp_path / "data", clock, database_url=url)
    iam = live.client("iam")
    iam.create_user(UserName="admin")
    iam.attach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_login_profile(UserName="admin", Password=PASSWORD, PasswordResetRequired=False)
    yield live
    live.stop()


@pytest.fixture
def browser(server: LiveServer) -> Iterator[ConsoleClient]:
    client = ConsoleClient(server)
    yield client
    client.close()


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert REFUSED in response.text


def test_nul_in_the_sign_in_form_is_refused(server: LiveServer, browser: ConsoleClient) -> None:
    for account, user in ((server.account_id, "ad\x00min"), (f"{server.account_id}\x00", "admin")):
        assert_refused(browser.sign_in(user, PASSWORD, account=account))
    assert browser.get("/").status_code == 303  # still signed out
    assert browser.sign_in("admin", PASSWORD, account=server.account_id).status_code == 303


def test_nul_in_signed_in_pages_is_refused(server: LiveServer, browser: ConsoleClient) -> None:
    assert browser.sign_in("admin", PASSWORD, account=server.account_id).status_code == 303
    for address in (
        "/iam/users/ad%00min",
        "/iam/roles/r%00",
        "/iam/user/admin/inline/p%00",
        "/iam/policy?arn=arn:aws:iam::aws:policy/Read%00OnlyAccess",
        f"/switchrole?account={server.account_id}&roleName=r%00",
    ):
        assert_refused(browser.get(address))
    switched = browser.post_form("/switchrole", {"account": "my\x00alias", "role": "r"})
    assert_refused(switched)
    history = browser.post_form(
        "/switchrole/forget", {"account": server.account_id, "role": "r\x00"}, from_page="/switchrole"
    )
    assert_refused(history)
    assert browser.get("/iam/users/admin").status_code == 200  # the session is untouched


def test_nul_in_a_federation_login_is_refused(server: LiveServer, browser: ConsoleClient) -> None:
    iam = server.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="console", AssumeRolePolicyDocument=json.dumps(trust))
    keys = iam.create_access_key(UserName="admin")["AccessKey"]
    creds = server.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{server.account_id}:role/console", RoleSessionName="ops"
    )["Credentials"]
    session = json.dumps(
        {
            "sessionId": creds["AccessKeyId"],
            "sessionKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
        }
    )
    for extra in ({"Issuer": "https://idp.example/\x00"}, {"DisplayName": "ops\x00"}):
        token = browser.get("/federation", params={"Action": "getSigninToken", "Session": session})
        assert token.status_code == 200
        login = {"Action": "login", "SigninToken": token.json()["SigninToken"], **extra}
        assert_refused(browser.get("/federation", params=login))
    assert browser.get("/").status_code == 303  # no session was made
