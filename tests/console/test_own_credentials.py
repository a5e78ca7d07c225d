"""One's own credentials in the console: MFA enrolment's detours, password, access keys."""

from __future__ import annotations

import re

from console_helpers import INITIAL_PASSWORD, NEW_PASSWORD, ConsoleClient, enroll_mfa

from rolehop.core.totp import Totp, key_from_b32
from support import FakeClock, LiveServer


def secret_on(page: str) -> str:
    found = re.search(r'<code id="secret-key" class="secret-key">([A-Z2-7]+)</code>', page)
    assert found, "no secret key on the page"
    return found.group(1)


def test_enrolment_survives_a_wrong_code_and_a_restart(
    client: ConsoleClient, org: LiveServer, clock: FakeClock
) -> None:
    client.sign_in_fresh("alice")
    manage = client.get("/iam/users/alice/mfa")
    assert manage.status_code == 200 and "Virtual MFA device" in manage.text
    assert client.post_form("/iam/users/alice/mfa", {}).status_code == 400  # no device type chosen
    started = client.post_form("/iam/users/alice/mfa", {"device_type": "virtual"})
    assert started.headers["location"] == "/iam/users/alice/mfa/virtual"
    first_secret = secret_on(client.get("/iam/users/alice/mfa/virtual").text)
    wrong = client.post_form("/iam/users/alice/mfa/virtual", {"code1": "123456", "code2": "654321"})
    assert wrong.status_code == 403 and "Authentication code for device is not valid" in wrong.text
    assert secret_on(wrong.text) == first_secret  # the QR code is still there to try again
    # starting over (e.g. a lost phone mid-way) replaces the unfinished device
    client.post_form("/iam/users/alice/mfa", {"device_type": "virtual"}, from_page="/iam/users/alice/mfa")
    second_secret = secret_on(client.get("/iam/users/alice/mfa/virtual").text)
    assert second_secret != first_secret
    device = Totp(key_from_b32(second_secret))
    code1 = device.generate(clock.now)
    clock.advance(30)
    done = client.post_form(
        "/iam/users/alice/mfa/virtual", {"code1": code1, "code2": device.generate(clock.now)}
    )
    assert done.status_code == 200 and "MFA device assigned" in done.text
    assert client.get("/iam/users/alice/mfa/virtual").headers["location"] == "/iam/users/alice/mfa"
    devices = org.client("iam").list_mfa_devices(UserName="alice")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == ["arn:aws:iam::777764040422:mfa/alice"]
    listed = org.client("iam").list_virtual_mfa_devices()["VirtualMFADevices"]
    assert len(listed) == 1  # the abandoned device is gone
    # the device shows on the Security credentials tab; removing it needs an MFA session (AWS's policy)
    page = client.get("/iam/users/alice?tab=security_credentials").text
    assert "arn:aws:iam::777764040422:mfa/alice" in page
    removed = client.post_form(
        "/iam/users/alice/mfa/remove",
        {"serial": devices[0]["SerialNumber"]},
        from_page="/iam/users/alice/mfa",
    )
    assert removed.status_code == 403 and "explicit deny" in removed.text


def test_only_ones_own_credentials_are_managed(client: ConsoleClient) -> None:
    client.sign_in_fresh("alice")
    for path in ("/iam/users/bob/mfa", "/iam/users/bob/password"):
        refused = client.get(path)
        assert refused.status_code == 403 and "own password, MFA device and access keys" in refused.text
    assert client.post_form("/iam/users/bob/access-keys", {}, from_page="/").status_code == 403
    assert "Manage</a>" not in client.get("/iam/users/bob?tab=security_credentials").text


def test_change_password_from_security_credentials(client: ConsoleClient, org: LiveServer) -> None:
    client.sign_in_fresh("alice")
    mismatch = client.post_form(
        "/iam/users/alice/password",
        {
            "old_password": NEW_PASSWORD,
            "new_password": "Another-Pass-77",
            "confirm_password": "Another-Pass-78",
        },
    )
    assert mismatch.status_code == 400 and "do not match" in mismatch.text
    wrong = client.post_form(
        "/iam/users/alice/password",
        {"old_password": "nope", "new_password": "Another-Pass-77", "confirm_password": "Another-Pass-77"},
    )
    assert wrong.status_code == 403 and "The old password is incorrect." in wrong.text
    done = client.post_form(
        "/iam/users/alice/password",
        {
            "old_password": NEW_PASSWORD,
            "new_password": "Another-Pass-77",
            "confirm_password": "Another-Pass-77",
        },
    )
    assert done.headers["location"] == "/iam/users/alice?tab=security_credentials&done=password"
    for password, status in (("Another-Pass-77", 303), (NEW_PASSWORD, 401), (INITIAL_PASSWORD, 401)):
        other = ConsoleClient(org)
        assert other.sign_in("alice", password).status_code == status
        other.close()


def test_access_keys_need_an_mfa_session_and_show_the_secret_once(
    client: ConsoleClient, org: LiveServer, clock: FakeClock
) -> None:
    client.sign_in_fresh("alice")
    denied = client.post_form("/iam/users/alice/access-keys", {}, from_page="/")
    assert denied.status_code == 403 and "explicit deny" in denied.text  # without MFA: AWS's policy says no
    client.post_form("/signout", {}, from_page="/")
    device = enroll_mfa(org, clock, "alice")
    client.sign_in("alice", NEW_PASSWORD)
    client.post_form("/signin/mfa", {"code": device.generate(clock.now)})
    created = client.post_form("/iam/users/alice/access-keys", {}, from_page="/")
    assert (
        created.status_code == 200
        and "This is the only time the secret access key can be seen" in created.text
    )
    key_id = re.findall(r'class="mono">(AKIA[A-Z0-9]+)<', created.text)[0]
    tab = "/iam/users/alice?tab=security_credentials"
    assert key_id in client.get(tab).text
    assert "SecretAccessKey" not in client.get(tab).text
    change = {"access_key_id": key_id}
    assert client.post_form(
        "/iam/users/alice/access-keys/change", {**change, "change": "Inactive"}, from_page=tab
    )
    assert (
        org.client("iam").list_access_keys(UserName="alice")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    )
    client.post_form("/iam/users/alice/access-keys/change", {**change, "change": "delete"}, from_page=tab)
    assert org.client("iam").list_access_keys(UserName="alice")["AccessKeyMetadata"] == []
