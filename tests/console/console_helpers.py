"""Helpers of the console tests: the example organization's names, passwords, MFA, a plain HTTP client."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.auth
import httpx
import pytest
import yaml
from botocore.exceptions import ClientError

from rolehop.core.totp import Totp, key_from_b32
from rolehop.services.admin.apply import apply_spec, parse_spec
from support import FakeClock, LiveServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "aster-key.yaml"
AK, PRODUCTION, DEVELOP, STAGING = "777764040422", "380735047240", "228923425684", "464677946080"
ADMIN_ROLE, READONLY_ROLE = "ak-main-account-admin", "ak-developer-readonly"
INITIAL_PASSWORD = "Initial-Passw0rd!"  # what the administrator hands out; must be changed
NEW_PASSWORD = "Correct-Horse-42!"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = os.environ.get("ROLEHOP_SCREENSHOTS")  # a directory: the browser tests save pages there


def give_password(org: LiveServer, user: str, password: str = INITIAL_PASSWORD) -> None:
    """The user's initial console password, to be changed at first sign-in (whether or not the
    example already gives one, the test knows this one)."""
    iam = org.client("iam")
    try:
        iam.create_login_profile(UserName=user, Password=password, PasswordResetRequired=True)
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        iam.update_login_profile(UserName=user, Password=password, PasswordResetRequired=True)


def enroll_mfa(org: LiveServer, clock: FakeClock, user: str) -> Totp:
    """An MFA device for `user`, enrolled by the administrator through the API; returns its generator."""
    iam = org.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    totp = Totp(key_from_b32(device["Base32StringSeed"].decode()))
    first = totp.generate(clock.now)
    clock.advance(30)
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=first,
        AuthenticationCode2=totp.generate(clock.now),
    )
    clock.advance(30)  # the next code is a fresh one
    return totp


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


class ConsoleClient:
    """A browser-less console client (httpx): for what a browser hides, such as headers and forged posts."""

    def __init__(self, org: LiveServer) -> None:
        self.http = httpx.Client(base_url=org.url, follow_redirects=False)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post_form(self, path: str, data: dict[str, str], *, from_page: str | None = None) -> httpx.Response:
        """Posts `data` with the CSRF token of `from_page` (default: the form's own page)."""
        page = self.http.get(from_page or path)
        return self.http.post(path, data={"csrf_token": csrf_of(page.text), **data})

    def sign_in(self, user: str, password: str, *, account: str = AK) -> httpx.Response:
        return self.post_form(
            "/signin", {"account": account, "username": user, "password": password, "next": "/"}
        )

    def sign_in_fresh(self, user: str) -> None:
        """First sign-in with the initial password, then the forced change to NEW_PASSWORD."""
        first = self.sign_in(user, INITIAL_PASSWORD)
        assert first.headers["location"].startswith("/signin/password"), first.text
        changed = self.post_form(
            "/signin/password",
            {
                "old_password": INITIAL_PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 303, changed.text

    def close(self) -> None:
        self.http.close()


# --- the audit trail --------------------------------------------------------------------------------


@contextmanager
def example_org(data_dir: Path) -> Iterator[LiveServer]:
    """The guide's organization on a live server with a FakeClock of its own (botocore signs with it),
    for a module's tests to share; alice and bob have INITIAL_PASSWORD, to be changed."""
    clock = FakeClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: clock.now.replace(tzinfo=None)
        )
        live = LiveServer(data_dir, clock, account_id=AK)
        try:
            apply_spec(live.app.rt, parse_spec(yaml.safe_load(EXAMPLE.read_text())))
            for user in ("alice", "bob"):
                give_password(live, user)
            yield live
        finally:
            live.stop()


def trail_records(
    org: LiveServer, key: str | None = None, value: str | None = None, **kwargs: Any
) -> list[Any]:
    """The CloudTrail records LookupEvents returns to the account's root (boto3, every page), newest
    first; `key`/`value`: one lookup attribute."""
    if key is not None:
        kwargs["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    records: list[Any] = []
    for page in org.client("cloudtrail").get_paginator("lookup_events").paginate(**kwargs):
        records += [json.loads(e["CloudTrailEvent"]) for e in page["Events"]]
    return records
