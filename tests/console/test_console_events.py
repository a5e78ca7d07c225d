"""The console's own CloudTrail events (signin.amazonaws.com) and the Event history page, with the HTTP
console client and boto3's LookupEvents against one live server for the module: a name no user has is
recorded as HIDDEN_DUE_TO_SECURITY_REASONS and appears nowhere in the trail; a wrong password or code
is a Failure; MFAUsed says whether a code was used; the federation endpoint's GetSigninToken and the
ConsoleLogin it leads to; sign-out; the page's filters, paging, switched roles' display names and
colours, each event's record, and its refusal without cloudtrail:LookupEvents."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from typing import Any

import pytest
from console_helpers import (
    AK,
    INITIAL_PASSWORD,
    NEW_PASSWORD,
    PRODUCTION,
    ConsoleClient,
    enroll_mfa,
    example_org,
    give_password,
    trail_records,
)

from rolehop.services.pipeline.trail import stored_fields
from rolehop.services.ports.trail import EventQuery
from support import LiveServer

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
GREEN = "b7ca9d"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with example_org(tmp_path_factory.mktemp("console-events") / "data") as live:
        yield live


def signin_events(org: LiveServer, username: str) -> list[dict[str, Any]]:
    """The user's sign-in events (signin.amazonaws.com), oldest first."""
    found = trail_records(org, "Username", username)
    return [r for r in reversed(found) if r["eventSource"] == "signin.amazonaws.com"]


def everything_stored(org: LiveServer) -> str:
    """Every field of every event the store keeps, as one text."""
    org.app.rt.trail.flush()
    with org.app.rt.store.transaction() as tx:
        stored = tx.lookup_events(EventQuery(None, limit=100_000))
    return json.dumps([stored_fields(s.event) for s in stored])


def test_an_unknown_user_name_is_hidden_and_never_recorded(client: ConsoleClient, org: LiveServer) -> None:
    typed = "Tr0ub4dor&3-typed-in-the-name-box"  # a password typed in the wrong box
    assert client.sign_in(typed, "whatever-Passw0rd").status_code == 401
    assert client.sign_in("nobody", "x", account="999988887777").status_code == 401  # no such account
    failures = [
        r for r in trail_records(org, "EventName", "ConsoleLogin") if r["userIdentity"]["userName"] == HIDDEN
    ]
    assert len(failures) == 1
    failure = failures[0]
    assert failure["userIdentity"] == {
        "type": "IAMUser",
        "accountId": AK,
        "accessKeyId": "",
        "userName": HIDDEN,
    }
    assert failure["errorMessage"] == "No username found in supplied account"
    assert failure["responseElements"] == {"ConsoleLogin": "Failure"}
    assert failure["additionalEventData"]["MFAUsed"] == "No"
    assert failure["eventType"] == "AwsConsoleSignIn" and failure["recipientAccountId"] == AK
    assert failure["sourceIPAddress"] == "127.0.0.1" and failure["userAgent"].startswith("python-httpx")
    stored = everything_stored(org)
    assert typed not in stored and "whatever-Passw0rd" not in stored
    assert "999988887777" not in stored  # an account that does not exist has no event history


def test_a_wrong_password_or_code_is_a_failure_and_mfa_used_says_whether_a_code_was_used(
    org: LiveServer,
) -> None:
    device = enroll_mfa(org, org.clock, "bob")
    org.client("iam").update_login_profile(UserName="bob", Password=NEW_PASSWORD, PasswordResetRequired=False)
    browser = ConsoleClient(org)
    try:
        assert browser.sign_in("bob", "Not-his-passw0rd").status_code == 401
        assert browser.sign_in("bob", NEW_PASSWORD).headers["location"].startswith("/signin/mfa")
        code = device.generate(org.clock.now)
        wrong = "000000" if code != "000000" else "111111"
        assert browser.post_form("/signin/mfa", {"code": wrong}).status_code == 401
        assert browser.post_form("/signin/mfa", {"code": code, "next": "/iam"}).status_code == 303
        assert browser.post_form("/signout", {}, from_page="/").status_code == 303
    finally:
        browser.close()
    events = signin_events(org, "bob")
    assert [(r["eventName"], r["responseElements"], r.get("errorMessage")) for r in events] == [
        ("ConsoleLogin", {"ConsoleLogin": "Failure"}, "Failed authentication"),
        ("CheckMfa", {"CheckMfa": "Success"}, None),
        ("ConsoleLogin", {"ConsoleLogin": "Failure"}, "Failed authentication"),
        ("ConsoleLogin", {"ConsoleLogin": "Success"}, None),
        ("ConsoleLogout", {"ConsoleLogout": "Success"}, None),
    ]
    wrong_password, check, wrong_code, signed_in, signed_out = events
    assert wrong_password["additionalEventData"]["MFAUsed"] == "No"
    assert check["additionalEventData"] == {"MfaType": "Virtual MFA"}
    assert wrong_code["additionalEventData"]["MFAUsed"] == "Yes"
    assert signed_in["additionalEventData"] == {
        "LoginTo": f"{org.url}/iam",
        "MobileVersion": "No",
        "MFAUsed": "Yes",
    }
    bob = f"arn:aws:iam::{AK}:user/bob"
    assert signed_in["userIdentity"]["arn"] == bob and signed_in["userIdentity"]["userName"] == "bob"
    assert "arn" not in wrong_password["userIdentity"]  # before sign-in, as CloudTrail shows it
    assert signed_out["userIdentity"]["arn"] == bob
    assert signed_out["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"
    assert all(r["readOnly"] is False and r["recipientAccountId"] == AK for r in events)
    stored = everything_stored(org)
    assert code not in stored and wrong not in stored and "Not-his-passw0rd" not in stored


def test_a_first_sign_in_without_mfa_and_the_forced_password_change(
    client: ConsoleClient, org: LiveServer
) -> None:
    client.sign_in_fresh("alice")
    found = list(reversed(trail_records(org, "Username", "alice")))
    login = next(r for r in found if r["eventName"] == "ConsoleLogin")
    assert login["responseElements"] == {"ConsoleLogin": "Success"}
    assert login["additionalEventData"]["MFAUsed"] == "No"
    changed = next(r for r in found if r["eventName"] == "ChangePassword")
    assert found.index(login) < found.index(changed)
    assert changed["eventSource"] == "iam.amazonaws.com"
    assert changed["sessionCredentialFromConsole"] == "true"
    assert changed["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert changed["requestParameters"] is None  # as IAM records ChangePassword: no password at all
    stored = everything_stored(org)
    assert INITIAL_PASSWORD not in stored and NEW_PASSWORD not in stored


ROLE = "fed-reader"


def federation_keys(org: LiveServer) -> dict[str, Any]:
    iam = org.client("iam")
    iam.create_user(UserName="fed-ops")
    iam.attach_user_policy(UserName="fed-ops", PolicyArn=ADMIN)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{AK}:user/fed-ops"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName=ROLE, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    return iam.create_access_key(UserName="fed-ops")["AccessKey"]


def session_param(creds: dict[str, Any]) -> str:
    return json.dumps(
        {
            "sessionId": creds["AccessKeyId"],
            "sessionKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
        }
    )


def test_federation_get_signin_token_and_the_console_login_it_leads_to(
    client: ConsoleClient, org: LiveServer
) -> None:
    keys = federation_keys(org)
    sts = org.client_for("sts", keys)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{AK}:role/{ROLE}", RoleSessionName="fed-console")[
        "Credentials"
    ]
    session_creds = sts.get_session_token()["Credentials"]  # not usable for a console sign-in
    refused = client.get(
        "/federation", params={"Action": "getSigninToken", "Session": session_param(session_creds)}
    )
    assert refused.status_code == 400
    answer = client.get("/federation", params={"Action": "getSigninToken", "Session": session_param(creds)})
    assert answer.status_code == 200
    token = answer.json()["SigninToken"]
    login = {"Action": "login", "SigninToken": token, "Destination": "/iam/roles"}
    assert client.get("/federation", params=login).status_code == 303
    assert client.post_form("/signout", {}, from_page="/iam").status_code == 303
    again = ConsoleClient(org)
    try:
        assert again.get("/federation", params=login).status_code == 400  # a sign-in token is used once
    finally:
        again.close()

    events = signin_events(org, "fed-console")
    assert [(r["eventName"], r["responseElements"], r.get("errorMessage")) for r in events] == [
        ("GetSigninToken", {"GetSigninToken": "Success"}, None),
        ("ConsoleLogin", {"ConsoleLogin": "Success"}, None),
        ("ConsoleLogout", {"ConsoleLogout": "Success"}, None),
        ("ConsoleLogin", {"ConsoleLogin": "Failure"}, "The sign-in token has already been used."),
    ]
    got_token, logged_in, _, _ = events
    role_session = f"arn:aws:sts::{AK}:assumed-role/{ROLE}/fed-console"
    assert {r["userIdentity"]["arn"] for r in events} == {role_session}
    issuer = got_token["userIdentity"]["sessionContext"]["sessionIssuer"]
    assert issuer["arn"] == f"arn:aws:iam::{AK}:role/{ROLE}" and issuer["type"] == "Role"
    assert got_token["additionalEventData"] == {"MobileVersion": "No", "MFAUsed": "No"}
    assert logged_in["additionalEventData"]["LoginTo"] == f"{org.url}/iam/roles"
    assert "accessKeyId" not in logged_in["userIdentity"]
    wrong_kind = [r for r in signin_events(org, "fed-ops") if r["eventName"] == "GetSigninToken"]
    assert [(r["responseElements"], r["errorMessage"]) for r in wrong_kind] == [
        (
            {"GetSigninToken": "Failure"},
            "Only federation tokens or assume role tokens may be used for federated login. "
            "Please contact your administrator.",
        )
    ]
    stored = everything_stored(org)
    for secret in (creds["SecretAccessKey"], creds["SessionToken"], token, session_creds["SecretAccessKey"]):
        assert secret not in stored


def rows(page: str) -> list[str]:
    """The event rows of an Event history page, as text."""
    found = re.findall(r'<tr class="event".*?</tr>', page, flags=re.S)
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r))).strip() for r in found]


def first_match(pattern: str, text: str) -> str:
    found = re.search(pattern, text, flags=re.S)
    assert found, pattern
    return found.group(1)


def test_the_event_history_page(client: ConsoleClient, org: LiveServer) -> None:
    iam = org.client("iam")
    iam.create_user(UserName="auditor")
    iam.attach_user_policy(UserName="auditor", PolicyArn=ADMIN)
    give_password(org, "auditor")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{AK}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="audit-desk", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="audit-desk", PolicyArn=ADMIN)
    client.sign_in_fresh("auditor")
    switched = client.post_form(
        "/switchrole", {"account": AK, "role": "audit-desk", "display_name": "Audit desk", "color": GREEN}
    )
    assert switched.status_code == 303, switched.text

    # as the role: who switched into it, shown with the name and colour auditor gave it, and the record
    page = client.get("/cloudtrail/events", params={"attribute": "EventName", "value": "SwitchRole"})
    assert page.status_code == 200, page.text
    when = f"{org.clock.now:%Y-%m-%d %H:%M} UTC"
    assert rows(page.text) == [f"{when} Audit desk auditor SwitchRole signin.amazonaws.com 127.0.0.1 Success"]
    assert f'class="badge role-session role-{GREEN}"' in page.text
    record = unescape(first_match(r"<pre class=\"policy\"><code>(.*?)</code>", page.text))
    switch = json.loads(record)
    assert switch["additionalEventData"]["SwitchFrom"] == f"arn:aws:iam::{AK}:user/auditor"
    assert switch["additionalEventData"]["DisplayName"] == "Audit desk"
    assert switch["userIdentity"]["arn"] == f"arn:aws:sts::{AK}:assumed-role/audit-desk/auditor"

    # back as the user: the same names; filters by user name, and a time range that holds nothing
    assert client.post_form("/switchback", {}, from_page="/").status_code == 303
    mine = client.get("/cloudtrail/events", params={"attribute": "Username", "value": "auditor"})
    names = [r.split(" UTC ", 1)[1] for r in rows(mine.text)]
    assert names[0].startswith("auditor SwitchRole") and any(
        n.startswith("Audit desk auditor ") for n in names
    )
    assert any(n.startswith("auditor ConsoleLogin signin.amazonaws.com 127.0.0.1 Success") for n in names)
    later = f"{org.clock.now.replace(year=org.clock.now.year + 1):%Y-%m-%dT%H:%M}"
    empty = client.get(
        "/cloudtrail/events", params={"attribute": "Username", "value": "auditor", "start": later}
    )
    assert rows(empty.text) == [] and "No events match." in empty.text
    bad = client.get("/cloudtrail/events", params={"attribute": "EventName", "value": ""})
    assert bad.status_code == 400 and "Lookup attribute value is not valid." in bad.text
    failed = ConsoleClient(org)
    try:
        failed.sign_in("auditor", "Wrong-passw0rd")
    finally:
        failed.close()
    refused = client.get("/cloudtrail/events", params={"attribute": "EventName", "value": "ConsoleLogin"})
    assert (
        "auditor ConsoleLogin signin.amazonaws.com 127.0.0.1 Failed authentication" in rows(refused.text)[0]
    )
    assert 'class="result-failed"' in refused.text

    # links from the user's and the role's pages
    user_page = client.get("/iam/users/auditor").text
    assert 'href="/cloudtrail/events?attribute=Username&amp;value=auditor"' in user_page
    role_page = client.get("/iam/roles/audit-desk").text
    about = "/cloudtrail/events?attribute=ResourceName&value=audit-desk"
    assert f'href="{about.replace("&", "&amp;")}"' in role_page
    assert [r.split(" UTC ", 1)[1] for r in rows(client.get(about).text)][-1].startswith("root CreateRole")

    # in the Services menu
    assert 'href="/cloudtrail/events"' in client.get("/services", params={"q": "event history"}).text

    # pages of 50, newest first
    for _ in range(52):
        iam.list_groups()
    first = client.get("/cloudtrail/events", params={"attribute": "EventName", "value": "ListGroups"})
    assert len(rows(first.text)) == 50
    older = unescape(first_match(r'href="([^"]+)">Older events', first.text))
    second = client.get(older)
    assert (
        len(rows(second.text)) == 2 and "Newest events" in second.text and "Older events" not in second.text
    )


def test_the_whole_organization_switch_and_a_refusal(client: ConsoleClient, org: LiveServer) -> None:
    iam = org.client("iam")
    iam.create_user(UserName="org-admin")
    iam.attach_user_policy(UserName="org-admin", PolicyArn=ADMIN)
    give_password(org, "org-admin")
    iam.create_user(UserName="no-trail")  # no policy at all
    iam.create_login_profile(UserName="no-trail", Password=NEW_PASSWORD, PasswordResetRequired=False)
    outsider = ConsoleClient(org)
    try:
        outsider.sign_in("someone", "x", account=PRODUCTION)  # recorded in production's event history
        assert outsider.sign_in("no-trail", NEW_PASSWORD).status_code == 303
        denied = outsider.get("/cloudtrail/events")
        assert denied.status_code == 403
        assert "You do not have permission to see this." in denied.text
        assert "is not authorized to perform: cloudtrail:LookupEvents" in unescape(denied.text)
        assert "<table" not in denied.text
    finally:
        outsider.close()
    client.sign_in_fresh("org-admin")
    query = {"attribute": "EventName", "value": "ConsoleLogin", "org": "1"}
    own = client.get("/cloudtrail/events", params=query)
    assert (
        "Whole organization" not in own.text and PRODUCTION not in own.text
    )  # off unless the operator opts in
    rt = org.app.rt
    rt.settings = replace(rt.settings, audit_org_view=True)
    try:
        everyone = client.get("/cloudtrail/events", params=query)
        assert "Whole organization" in everyone.text
        assert any(
            r.startswith(f"{_formatted(PRODUCTION)} {HIDDEN}") for r in _after_time(rows(everyone.text))
        )
    finally:
        rt.settings = replace(rt.settings, audit_org_view=False)


def _formatted(account_id: str) -> str:
    return f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"


def _after_time(found: list[str]) -> list[str]:
    return [r.split(" UTC ", 1)[1] for r in found]
