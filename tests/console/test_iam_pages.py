"""The console's IAM detail pages: a missing user, role or group is a 404 page for a caller allowed to read
it, and the same 403 as an existing one for a caller who is not (no oracle of which names exist)."""

from __future__ import annotations

from pathlib import Path

from console_helpers import INITIAL_PASSWORD, ConsoleClient, give_password

from support import FakeClock, LiveServer

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def test_a_missing_user_role_or_group_is_not_found_for_a_reader(
    client: ConsoleClient, org: LiveServer
) -> None:
    iam = org.client("iam")
    iam.create_user(UserName="boss")
    iam.attach_user_policy(UserName="boss", PolicyArn=ADMIN)
    give_password(org, "boss")
    client.sign_in_fresh("boss")
    for path, message in (
        ("/iam/users/nobody", "The user with name nobody cannot be found."),
        ("/iam/roles/nobody", "The role with name nobody cannot be found."),
        ("/iam/groups/nobody", "The group with name nobody cannot be found."),
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert message in page.text and "You do not have permission" not in page.text
    assert client.get("/iam/users/alice").status_code == 200
    assert client.get("/iam/roles/ak-main-account-admin").status_code == 200
    assert client.get("/iam/groups/admins").status_code == 200


def test_a_caller_who_may_not_read_gets_the_same_403_whether_or_not_it_exists(client: ConsoleClient) -> None:
    client.sign_in_fresh("alice")  # may read only her own user, and no roles, until she uses MFA
    for missing, existing in (
        ("/iam/users/nobody", "/iam/users/bob"),
        ("/iam/roles/nobody", "/iam/roles/ak-main-account-admin"),
        ("/iam/groups/nobody", "/iam/groups/admins"),
    ):
        absent, present = client.get(missing), client.get(existing)
        assert (absent.status_code, present.status_code) == (403, 403), missing
        assert "You do not have permission" in absent.text and "cannot be found" not in absent.text


def test_the_organizations_page_lists_every_account_or_says_there_is_no_organization(
    client: ConsoleClient, org: LiveServer, tmp_path: Path, clock: FakeClock
) -> None:
    iam = org.client("iam")
    iam.create_user(UserName="boss")
    iam.attach_user_policy(UserName="boss", PolicyArn=ADMIN)
    give_password(org, "boss")
    client.sign_in_fresh("boss")
    page = client.get("/organizations")
    assert page.status_code == 200
    for account in ("777764040422", "380735047240", "228923425684", "464677946080"):
        assert account in page.text
    # a fresh store has no organization: a plain statement, not a refusal
    server = LiveServer(tmp_path / "alone", clock)
    server.client("iam").create_user(UserName="boss")
    server.client("iam").attach_user_policy(UserName="boss", PolicyArn=ADMIN)
    server.client("iam").create_login_profile(UserName="boss", Password=INITIAL_PASSWORD)
    alone = ConsoleClient(server)
    try:
        signed = alone.sign_in("boss", INITIAL_PASSWORD, account=server.account_id)
        assert signed.status_code == 303, signed.text
        page = alone.get("/organizations")
        assert page.status_code == 200
        assert "This account is not a member of an organization." in page.text
    finally:
        alone.close()
        server.stop()
