"""The organization's access guide (../shared/seed/), walked step by step in Chromium.

First sign-in with the provided password and the forced change; MFA set-up by the guide's path
(Services -> IAM -> Users -> your user -> Security credentials -> Manage -> Virtual MFA device ->
Continue -> QR code and "Show secret key" -> two successive codes); sign out and in with MFA; Switch
Role into production with a display name and colour; staging from a bookmarked link; both from the
Role History; Switch back; the history in another browser. Then what must not work.

Along the way, the audit trail: production's Event history page answers "who switched into the admin
role, with MFA?", and `aws cloudtrail lookup-events` (the AWS CLI, as the management account's root)
returns exactly the walk's console and IAM events, in order, with no secret in any of them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from console_helpers import (
    ADMIN_ROLE,
    AK,
    DEVELOP,
    INITIAL_PASSWORD,
    NEW_PASSWORD,
    PRODUCTION,
    READONLY_ROLE,
    SCREENSHOTS,
    STAGING,
    enroll_mfa,
)
from playwright.sync_api import Page, expect

from rolehop.core.totp import Totp, key_from_b32
from support import FakeClock, LiveServer, aws_cli

GREEN, BLUE = "b7ca9d", "83d4e8"


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def page(browser: Any, org: LiveServer) -> Any:
    context = browser.new_context(base_url=org.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, user: str, password: str, *, account: str = AK) -> None:
    page.goto("/")
    page.get_by_label("Account ID (12 digits) or account alias").fill(account)
    page.get_by_label("IAM user name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def mfa_code(page: Page, code: str) -> None:
    expect(page.get_by_role("heading", name="Multi-factor authentication")).to_be_visible()
    page.get_by_label("MFA code").fill(code)
    page.get_by_role("button", name="Submit").click()


def open_account_menu(page: Page) -> Any:
    page.locator("#account-menu-button").click()
    menu = page.locator("#account-menu")
    expect(menu).to_be_visible()
    return menu


def header(page: Page) -> Any:
    return page.locator("#account-menu-button")


UNLABELLED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)"""


def assert_labelled(page: Page) -> None:
    """Every input of the page has a label (or an aria-label)."""
    assert page.evaluate(UNLABELLED) == [], page.url


def alice_in_the_trail(org: LiveServer, home: Path) -> tuple[str, list[dict[str, Any]]]:
    """`aws cloudtrail lookup-events` for alice in the management account: its output and the records,
    oldest first."""
    found = aws_cli(
        org,
        home,
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=Username,AttributeValue=alice",
    )
    assert found.returncode == 0, found.stderr
    events = json.loads(found.stdout)["Events"]
    assert all(e["Username"] == "alice" for e in events)
    return found.stdout, [json.loads(e["CloudTrailEvent"]) for e in reversed(events)]


def what_happened(record: dict[str, Any]) -> tuple[str, ...]:
    """An event of the walk, as the test expects it: its source, name and what tells it apart."""
    source = record["eventSource"].split(".")[0]
    name = record["eventName"]
    extra = record.get("additionalEventData") or {}
    if name == "ConsoleLogin":
        return (source, name, record["responseElements"]["ConsoleLogin"], f"MFAUsed={extra['MFAUsed']}")
    if name == "AssumeRole":
        return (source, name, record["requestParameters"]["roleArn"])
    if name == "SwitchRole":
        return (source, name, f"from {extra['SwitchFrom']}")
    return (source, name)


def test_the_access_guide_step_by_step(
    page: Page, browser: Any, org: LiveServer, clock: FakeClock, tmp_path: Path
) -> None:
    # "navigate to the AWS Console sign in page and enter the credentials you were provided"
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    shot(page, "01-sign-in")
    assert_labelled(page)
    sign_in(page, "alice", INITIAL_PASSWORD, account="aster-key")
    # the first sign-in forces a new password
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    shot(page, "02-forced-password-change")
    assert_labelled(page)
    page.get_by_label("Old password").fill(INITIAL_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Retype new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Confirm password change").click()
    expect(page.get_by_role("heading", name="Console Home")).to_be_visible()
    expect(page.get_by_text("You signed in without MFA.")).to_be_visible()
    expect(header(page)).to_have_text(re.compile(r"alice @ aster-key"))

    # "click the Services link in the top nav bar, then enter IAM in the text box. Select IAM."
    page.get_by_role("link", name="Services").click()
    page.get_by_role("searchbox", name="Search services").fill("IAM")
    panel = page.locator("#services-panel")
    expect(panel.get_by_role("link", name=re.compile("Organizations"))).to_be_hidden()
    shot(page, "03-services-search")
    panel.get_by_role("link", name=re.compile("^IAM")).click()
    # "On the Identity and Access Management(IAM) page, select the Users links."
    expect(page.get_by_role("heading", name="Identity and Access Management (IAM)")).to_be_visible()
    page.get_by_role("link", name="Users", exact=True).click()
    # "find and select your user. Click the name"
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_role("link", name="alice", exact=True).click()
    # "select the Security credentials tab, then click 'Manage' to the right of Assigned MFA device"
    page.get_by_role("link", name="Security credentials", exact=True).click()
    row = page.get_by_role("row", name=re.compile("Assigned MFA device"))
    expect(row).to_contain_text("Not assigned")
    shot(page, "04-security-credentials")
    row.get_by_role("link", name="Manage").click()
    # "Select Virtual MFA device, then Continue."
    page.get_by_label("Virtual MFA device").check()
    page.get_by_role("button", name="Continue").click()
    # "You will be presented with QR code ... enter 2 successive MFA codes"
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 100  # a real PNG, decoded by the browser
    page.get_by_text("Show secret key").click()
    secret = page.locator("#secret-key").inner_text().strip()
    shot(page, "05-virtual-mfa-qr-code")
    assert_labelled(page)
    device = Totp(key_from_b32(secret))
    codes = [device.generate(clock.now)]
    page.get_by_label("MFA code 1").fill(codes[-1])
    clock.advance(30)
    codes.append(device.generate(clock.now))
    page.get_by_label("MFA code 2").fill(codes[-1])
    page.get_by_role("button", name="Assign MFA").click()
    expect(page.get_by_role("heading", name="MFA device assigned")).to_be_visible()

    # "you must log out of AWS & then back in using your new password & MFA token"
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    sign_in(page, "alice", NEW_PASSWORD)
    clock.advance(30)
    shot(page, "06-sign-in-mfa")
    codes.append(device.generate(clock.now))
    mfa_code(page, codes[-1])
    expect(page.get_by_role("heading", name="Console Home")).to_be_visible()
    expect(page.get_by_text("You signed in without MFA.")).to_have_count(0)
    shot(page, "07-console-home")

    # "Access your account menu in the upper right-hand portion ... and select 'Switch Role'"
    open_account_menu(page).get_by_role("link", name="Switch Role").click()
    page.get_by_label("Account ID or alias", exact=True).fill(PRODUCTION)
    page.get_by_label("Role name", exact=True).fill(ADMIN_ROLE)
    page.get_by_label("Display name", exact=True).fill("Production admin")
    page.get_by_label("Green").check()
    shot(page, "08-switch-role")
    assert_labelled(page)
    page.get_by_role("button", name="Switch Role", exact=True).click()
    # "Your current role will be displayed in the same place as your account menu."
    expect(header(page)).to_have_text(re.compile("Production admin"))
    expect(header(page)).to_have_class(re.compile(f"role-{GREEN}"))
    assert header(page).evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(183, 202, 157)"
    menu = open_account_menu(page)
    expect(menu.get_by_role("button", name="Production admin")).to_be_visible()
    shot(page, "09-in-production-role-history")
    # the role's own permissions now: production's roles, as the AdministratorAccess role
    page.goto("/iam/roles")
    expect(page.get_by_role("link", name=ADMIN_ROLE)).to_be_visible()
    page.get_by_role("link", name=ADMIN_ROLE).click()
    expect(page.get_by_text(f"arn:aws:iam::{PRODUCTION}:role/{ADMIN_ROLE}", exact=True)).to_be_visible()
    shot(page, "10-role-in-production")

    # production's Event history: who switched into the admin role, with MFA, shown with the name
    # and colour alice gave it
    page.goto("/cloudtrail/events")
    page.get_by_label("Lookup attribute").select_option("EventName")
    page.get_by_label("Value").fill("SwitchRole")
    page.get_by_role("button", name="Look up events").click()
    assert_labelled(page)
    switches = page.locator("tr.event")
    expect(switches).to_have_count(1)
    expect(switches).to_contain_text("alice")
    expect(switches).to_contain_text("SwitchRole")
    expect(switches).to_contain_text("Success")
    expect(switches.locator(".role-session")).to_have_text("Production admin")
    expect(switches.locator(".role-session")).to_have_class(re.compile(f"role-{GREEN}"))
    page.get_by_text("Event record of SwitchRole").click()
    switch = json.loads(page.locator("tr.event-record pre").first.inner_text())
    assert switch["recipientAccountId"] == PRODUCTION
    assert switch["userIdentity"]["arn"] == f"arn:aws:sts::{PRODUCTION}:assumed-role/{ADMIN_ROLE}/alice"
    assert switch["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"
    assert switch["additionalEventData"]["SwitchFrom"] == f"arn:aws:iam::{AK}:user/alice"
    shot(page, "10b-event-history-in-production")

    # staging from a bookmarked switch-role link (AWS's /switchrole?… parameters pre-fill the form)
    page.goto(f"/switchrole?account={STAGING}&roleName={ADMIN_ROLE}&displayName=Staging%20admin&color={BLUE}")
    expect(page.get_by_label("Account ID or alias", exact=True)).to_have_value(STAGING)
    expect(page.get_by_label("Role name", exact=True)).to_have_value(ADMIN_ROLE)
    expect(page.get_by_label("Display name", exact=True)).to_have_value("Staging admin")
    expect(page.get_by_label("Blue")).to_be_checked()
    page.get_by_role("button", name="Switch Role", exact=True).click()
    expect(header(page)).to_have_text(re.compile("Staging admin"))

    # "If you have multiple switch-role accounts in the Role History you can jump between them directly."
    open_account_menu(page).get_by_role("button", name="Production admin").click()
    expect(header(page)).to_have_text(re.compile("Production admin"))
    clock.advance(1)  # the history is ordered by time of use, and this clock only moves when told
    open_account_menu(page).get_by_role("button", name="Staging admin").click()
    expect(header(page)).to_have_text(re.compile("Staging admin"))
    expect(header(page)).to_have_class(re.compile(f"role-{BLUE}"))

    # the menus work from the keyboard: Enter opens, Escape closes and gives the focus back
    header(page).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#account-menu")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#account-menu")).to_be_hidden()
    expect(header(page)).to_be_focused()

    # "To switch back to your main account, click the new 'current-role' menu and select 'Switch Back'"
    open_account_menu(page).get_by_role("button", name="Switch back").click()
    expect(header(page)).to_have_text(re.compile("alice @ aster-key"))

    # the trail of it all in the management account, as the AWS CLI reads it: every change and
    # console event, in order (her reads are there too, and every record is hers, from this browser)
    output, records = alice_in_the_trail(org, tmp_path)
    admin = f"role/{ADMIN_ROLE}"
    assert [what_happened(r) for r in records if not r["readOnly"] or r["eventName"] == "AssumeRole"] == [
        ("signin", "ConsoleLogin", "Success", "MFAUsed=No"),
        ("iam", "ChangePassword"),  # the forced change, before anything else
        ("iam", "CreateVirtualMFADevice"),
        ("iam", "EnableMFADevice"),
        ("signin", "ConsoleLogout"),
        ("signin", "CheckMfa"),
        ("signin", "ConsoleLogin", "Success", "MFAUsed=Yes"),
        ("sts", "AssumeRole", f"arn:aws:iam::{PRODUCTION}:{admin}"),
        ("sts", "AssumeRole", f"arn:aws:iam::{STAGING}:{admin}"),
        ("sts", "AssumeRole", f"arn:aws:iam::{PRODUCTION}:{admin}"),
        ("sts", "AssumeRole", f"arn:aws:iam::{STAGING}:{admin}"),
        ("signin", "SwitchRole", f"from arn:aws:sts::{STAGING}:assumed-role/{ADMIN_ROLE}/alice"),
    ]
    assert {"ListUsers", "GetUser", "ListMFADevices"} <= {r["eventName"] for r in records if r["readOnly"]}
    assert {r["recipientAccountId"] for r in records} == {AK}
    assert {r["userIdentity"]["userName"] for r in records} == {"alice"}
    # (CheckMfa's userIdentity has no ARN: the password was right, the code not yet in)
    assert {r["userIdentity"].get("arn") for r in records} == {f"arn:aws:iam::{AK}:user/alice", None}
    assert {r["sourceIPAddress"] for r in records} == {"127.0.0.1"}
    assert all("HeadlessChrome" in r["userAgent"] for r in records)
    api_calls = [r for r in records if r["eventSource"] != "signin.amazonaws.com"]
    assert all(r["sessionCredentialFromConsole"] == "true" for r in api_calls)
    with_mfa = [r for r in records if r["eventName"] in ("AssumeRole", "SwitchRole")]
    assert all(
        r["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "true" for r in with_mfa
    )
    for hidden in (INITIAL_PASSWORD, NEW_PASSWORD, secret):
        assert hidden not in output
    for code in codes:  # six digits: looked for as a recorded value
        assert f'"{code}"' not in json.dumps(records)

    # the history is the server's, per user: another browser sees it after signing in
    other = browser.new_context(base_url=org.url)
    try:
        second = other.new_page()
        sign_in(second, "alice", NEW_PASSWORD)
        clock.advance(30)
        mfa_code(second, device.generate(clock.now))
        history = open_account_menu(second).locator(".history")
        expect(history.get_by_role("button")).to_have_text(["Staging admin", "Production admin"])
    finally:
        other.close()


def test_a_user_without_mfa_reaches_nothing_else(page: Page, org: LiveServer) -> None:
    sign_in(page, "bob", INITIAL_PASSWORD)
    page.get_by_label("Old password").fill(INITIAL_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Retype new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Confirm password change").click()
    expect(page.get_by_text("You signed in without MFA.")).to_be_visible()
    for path in ("/iam/roles", "/iam/groups", "/iam/policies", "/organizations"):
        page.goto(path)
        expect(page.get_by_text("You do not have permission to see this.")).to_be_visible()
        expect(page.get_by_text("with an explicit deny in an identity-based policy")).to_be_visible()
    shot(page, "11-no-mfa-denied")
    # the way to set up MFA stays open
    page.goto("/security-credentials")
    expect(page.get_by_role("row", name=re.compile("Assigned MFA device"))).to_contain_text("Not assigned")
    # and a switch is refused by the policy engine (the trust policy wants MFA; so does bob's own policy)
    page.goto(f"/switchrole?account={DEVELOP}&roleName={READONLY_ROLE}")
    page.get_by_role("button", name="Switch Role", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(f"You could not switch to the role {READONLY_ROLE}")
    expect(page.get_by_role("alert")).to_contain_text("is not authorized to perform: sts:AssumeRole")
    expect(header(page)).to_have_text(re.compile("bob @ aster-key"))


def test_a_role_the_user_may_not_assume_shows_a_clear_error(
    page: Page, org: LiveServer, clock: FakeClock
) -> None:
    device = enroll_mfa(org, clock, "bob")
    org.client("iam").update_login_profile(UserName="bob", Password=NEW_PASSWORD, PasswordResetRequired=False)
    sign_in(page, "bob", NEW_PASSWORD)
    mfa_code(page, device.generate(clock.now))
    page.goto("/switchrole")
    # beyond AWS: the roles bob may assume, from the policy engine; nothing to copy from a wiki
    assumable = page.locator("table", has_text="Account ID").first
    expect(assumable.get_by_role("row")).to_have_count(3)  # a header and two roles
    expect(assumable).to_contain_text(DEVELOP)
    expect(assumable).to_contain_text(STAGING)
    expect(assumable).not_to_contain_text(PRODUCTION)
    # the admin role in production is not bob's
    page.get_by_label("Account ID or alias", exact=True).fill(PRODUCTION)
    page.get_by_label("Role name", exact=True).fill(ADMIN_ROLE)
    page.get_by_role("button", name="Switch Role", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"You could not switch to the role {ADMIN_ROLE} in account {PRODUCTION}.")
    expect(alert).to_contain_text(
        f"User: arn:aws:iam::{AK}:user/bob is not authorized to perform: sts:AssumeRole on resource: "
        f"arn:aws:iam::{PRODUCTION}:role/{ADMIN_ROLE}"
    )
    shot(page, "12-switch-refused")
    expect(header(page)).to_have_text(re.compile("bob @ aster-key"))
    # one click on an assumable role switches
    page.get_by_role("button", name=f"Switch to {READONLY_ROLE} in Development ({DEVELOP})").click()
    expect(header(page)).to_have_text(
        re.compile(f"{READONLY_ROLE} @ {DEVELOP}|{READONLY_ROLE} @ Development")
    )
    page.goto("/iam/roles")
    expect(page.get_by_role("link", name=READONLY_ROLE)).to_be_visible()  # ReadOnlyAccess reads IAM
