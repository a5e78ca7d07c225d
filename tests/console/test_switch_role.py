"""Switch Role over plain HTTP: the form's rules, the role history, renewal, and roles with paths."""

from __future__ import annotations

import json

import pytest
from console_helpers import (
    ADMIN_ROLE,
    AK,
    DEVELOP,
    INITIAL_PASSWORD,
    NEW_PASSWORD,
    PRODUCTION,
    STAGING,
    ConsoleClient,
    csrf_of,
    enroll_mfa,
)

from support import FakeClock, LiveServer


@pytest.fixture
def alice(org: LiveServer, clock: FakeClock, client: ConsoleClient) -> ConsoleClient:
    """alice signed in with MFA (her device enrolled by the administrator)."""
    device = enroll_mfa(org, clock, "alice")
    org.client("iam").update_login_profile(
        UserName="alice", Password=NEW_PASSWORD, PasswordResetRequired=False
    )
    client.sign_in("alice", NEW_PASSWORD)
    assert client.post_form("/signin/mfa", {"code": device.generate(clock.now)}).status_code == 303
    return client


def switch(client: ConsoleClient, account: str, role: str, display: str = "", color: str = "") -> int:
    response = client.post_form(
        "/switchrole", {"account": account, "role": role, "display_name": display, "color": color}
    )
    return response.status_code


def identity(client: ConsoleClient) -> str:
    text = client.get("/").text
    return text.split('class="identity-label">', 1)[1].split("<", 1)[0]


def history(client: ConsoleClient) -> list[str]:
    text = client.get("/switchrole").text.split("<h2>Role history</h2>", 1)[1]
    return [
        cell.split("</span>", 1)[1].split("</td>", 1)[0] for cell in text.split('<td><span class="swatch')[1:]
    ]


def test_the_role_history_keeps_every_role_newest_first(
    alice: ConsoleClient, org: LiveServer, clock: FakeClock
) -> None:
    iam = org.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{AK}:user/alice"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for i in range(4):
        iam.create_role(RoleName=f"extra-{i}", AssumeRolePolicyDocument=json.dumps(trust))
    targets = [(a, ADMIN_ROLE) for a in (AK, PRODUCTION, DEVELOP, STAGING)] + [
        (AK, f"extra-{i}") for i in range(4)
    ]
    for n, (account, role) in enumerate(targets):
        clock.advance(1)
        assert switch(alice, account, role, f"entry {n}") == 303
    assert history(alice) == [f"entry {n}" for n in reversed(range(8))]  # AWS keeps five, in one browser
    # using an entry again moves it to the top and keeps its name and colour
    clock.advance(1)
    page = alice.get("/")
    form = {"csrf_token": csrf_of(page.text), "account": PRODUCTION, "role": ADMIN_ROLE}
    assert alice.http.post("/switchrole/history", data=form).status_code == 303
    assert identity(alice) == "entry 1"
    assert history(alice)[0] == "entry 1"
    # and an entry can be forgotten
    forgotten = alice.post_form(
        "/switchrole/forget", {"account": PRODUCTION, "role": ADMIN_ROLE}, from_page="/"
    )
    assert forgotten.status_code == 303
    assert "entry 1" not in history(alice) and len(history(alice)) == 7


def test_the_form_takes_ids_with_dashes_aliases_and_roles_with_paths(
    alice: ConsoleClient, org: LiveServer
) -> None:
    assert switch(alice, "3807-3504-7240", ADMIN_ROLE) == 303
    assert identity(alice) == f"{ADMIN_ROLE} @ {PRODUCTION}"  # AWS's default display name
    assert switch(alice, "aster-key", ADMIN_ROLE, "AK admin", "f2b0a9") == 303
    assert identity(alice) == "AK admin"
    iam = org.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{AK}:user/alice"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="deep", Path="/team/ops/", AssumeRolePolicyDocument=json.dumps(trust))
    assert switch(alice, AK, "team/ops/deep", "Deep") == 303
    assert identity(alice) == "Deep"
    assert "arn:aws:iam::777764040422:role/team/ops/deep" in alice.get("/").text


FORM_MISTAKES = [
    ("no-such-alias", ADMIN_ROLE, "No account has the ID or alias"),
    ("", ADMIN_ROLE, "Enter the account ID or alias"),
    (PRODUCTION, "", "Enter the name of the role"),
    (PRODUCTION, "bad name!", "at most 64 characters"),
    (PRODUCTION, "a/" * 32 + "x", "at most 64 characters"),
]


def test_the_form_explains_what_is_wrong(alice: ConsoleClient) -> None:
    for account, role, message in FORM_MISTAKES:
        response = alice.post_form("/switchrole", {"account": account, "role": role})
        assert response.status_code == 400, (account, role)
        assert message in response.text, (account, role)


def test_an_unknown_role_or_account_is_refused_like_a_forbidden_one(alice: ConsoleClient) -> None:
    for account, role in ((PRODUCTION, "no-such-role"), ("111122223333", ADMIN_ROLE)):
        response = alice.post_form("/switchrole", {"account": account, "role": role})
        assert response.status_code == 403
        assert "is not authorized to perform: sts:AssumeRole" in response.text


def test_the_role_session_is_renewed_with_the_users_session(
    alice: ConsoleClient, org: LiveServer, clock: FakeClock
) -> None:
    assert switch(alice, PRODUCTION, ADMIN_ROLE, "Prod") == 303
    clock.advance(3600 + 5)  # past the role session's hour
    assert alice.get("/iam/roles").status_code == 200
    assert identity(alice) == "Prod"
    # when the role may no longer be assumed, the console leaves it and says why
    iam = org.client("iam")
    group = iam.list_attached_group_policies(GroupName="admins")["AttachedPolicies"]
    assume = next(p for p in group if p["PolicyName"] == "AssumeAkMainAccountAdmin")
    iam.detach_group_policy(GroupName="admins", PolicyArn=assume["PolicyArn"])
    clock.advance(3600 + 5)
    home = alice.get("/")
    assert "ended and could not be renewed" in home.text
    assert identity(alice) == "alice @ aster-key"


def test_switch_back_and_the_role_acts_with_its_own_permissions(alice: ConsoleClient) -> None:
    # alice herself may not list roles (her groups grant AssumeRole and her own credentials only)
    assert "because no identity-based policy allows the iam:ListRoles action" in alice.get("/iam/roles").text
    assert switch(alice, STAGING, ADMIN_ROLE, "Staging") == 303
    roles = alice.get("/iam/roles").text
    assert "ak-developer-readonly" in roles  # staging's roles, not AK's
    # own-credential pages belong to the user, not to the role
    assert alice.get("/security-credentials").status_code == 403
    assert alice.post_form("/switchback", {}, from_page="/").status_code == 303
    assert identity(alice) == "alice @ aster-key"
    assert (
        alice.get("/security-credentials").headers["location"] == "/iam/users/alice?tab=security_credentials"
    )


def test_switching_needs_mfa_when_the_trust_policy_does(client: ConsoleClient) -> None:
    client.sign_in_fresh("alice")  # no MFA device: a password-only session
    response = client.post_form("/switchrole", {"account": PRODUCTION, "role": ADMIN_ROLE})
    assert response.status_code == 403
    assert "explicit deny in an identity-based policy" in response.text
    assert INITIAL_PASSWORD  # (the fixture's password was changed by sign_in_fresh)
