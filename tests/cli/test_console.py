"""`rolehop console`: AWS's federation protocol (getSigninToken, then login) with the role's
credentials; following the URL signs an HTTP client into rolehop's console as the role."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cli_support import PRODUCTION, Calls, Person, codes_of, configure, invoke, never, one_line_error

from rolehop.cli.user.console import color_for
from support import FakeClock, LiveServer


def test_console_url_follows_the_federation_protocol(
    org: LiveServer,
    alice: Person,
    home: Path,
    clock: FakeClock,
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(alice, org, clock, monkeypatch)
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        return True

    result = invoke(
        ["console", "production-admin", "--destination", "/iam/roles"],
        clock=clock,
        prompts=codes_of(alice.device),
        browser=browser,
    )
    assert result.exit_code == 0, result.output
    assert "opened the console as production-admin" in result.stderr
    assert result.stdout == ""  # the URL carries a sign-in token: not printed unless asked
    url = urlsplit(opened[0])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{org.url}/federation"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["Action"] == "login" and query["Issuer"] == org.url + "/"
    assert query["Destination"] == org.url + "/iam/roles" and query["SigninToken"]
    printed = invoke(["console", "production-admin", "--print"], clock=clock, prompts=never())
    assert printed.stdout.startswith(f"{org.url}/federation?Action=login&")
    assert calls.actions["GetSessionToken"] == 1  # the console, too, uses the one MFA session


def test_the_url_signs_a_browser_into_the_console_as_the_role(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    url = invoke(
        ["console", "production-admin", "--print"], clock=clock, prompts=codes_of(alice.device)
    ).stdout
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        landed = browser.get(url.strip())
        assert landed.status_code == 200, landed.text[:500]
        assert landed.url.path == "/"
        page = landed.text
        assert "ak-main-account-admin" in page and PRODUCTION in page.replace("-", "")
        # like a switched role: the profile's name as display name, in its palette colour
        assert "production-admin" in page and color_for("production-admin") in page
        # the console acts as the role: the IAM pages of production are the role's to see
        roles = browser.get(f"{org.url}/iam/roles")
        assert roles.status_code == 200 and "ak-main-account-admin" in roles.text
        # a sign-in token is good once
        again = browser.get(url.strip())
        assert again.status_code >= 400


def test_console_errors(
    org: LiveServer, alice: Person, home: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(alice, org, clock, monkeypatch)
    main = invoke(["console", "rolehop"], clock=clock)
    assert "profile rolehop is not a role profile" in one_line_error(main)
    json.loads((home / ".rolehop" / "profiles.json").read_text())
