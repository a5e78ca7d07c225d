"""The console's pages of AWS-managed policies open for whoever may read them (issue 15, finding 3):
the policy engine decides, as for the API."""

from __future__ import annotations

import html
import re

from console_helpers import ADMIN_ROLE, NEW_PASSWORD, PRODUCTION, ConsoleClient, enroll_mfa, give_password

from support import FakeClock, LiveServer

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def test_an_administrator_opens_an_aws_managed_policy(client: ConsoleClient, org: LiveServer) -> None:
    iam = org.client("iam")
    iam.create_user(UserName="carol")
    iam.attach_user_policy(UserName="carol", PolicyArn=ADMIN)
    give_password(org, "carol")
    client.sign_in_fresh("carol")
    page = client.get("/iam/policy", params={"arn": ADMIN})
    assert page.status_code == 200, page.text
    assert "AdministratorAccess" in page.text and "&#34;Action&#34;: &#34;*&#34;" in page.text


def test_the_role_of_a_member_account_opens_its_own_policy(
    client: ConsoleClient, org: LiveServer, clock: FakeClock
) -> None:
    device = enroll_mfa(org, clock, "alice")
    org.client("iam").update_login_profile(
        UserName="alice", Password=NEW_PASSWORD, PasswordResetRequired=False
    )
    client.sign_in("alice", NEW_PASSWORD)
    assert client.post_form("/signin/mfa", {"code": device.generate(clock.now)}).status_code == 303
    assert client.post_form("/switchrole", {"account": PRODUCTION, "role": ADMIN_ROLE}).status_code == 303
    role = client.get(f"/iam/roles/{ADMIN_ROLE}")
    link = re.search(r'<a href="(/iam/policy\?arn=[^"]+)">AdministratorAccess</a>', role.text)
    assert role.status_code == 200 and link, role.text
    page = client.get(html.unescape(link.group(1)))  # the role's page links its policy
    assert page.status_code == 200, page.text
    assert "Policy document (JSON)" in page.text and "not authorized" not in page.text
