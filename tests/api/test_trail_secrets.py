"""No secret is ever recorded: not in the audit trail, not anywhere in the store, not in a log line.

One live server, its log lines captured as `serve` writes them (rolehop.logs, JSON), runs a flow
that handles every kind of secret the API and the console take or give: passwords (CreateLoginProfile,
ChangePassword, UpdateLoginProfile, the console's sign-in and forced change), MFA seeds and codes
(CreateVirtualMFADevice, EnableMFADevice, ResyncMFADevice, the console's enrolment and sign-in),
secret keys and session tokens (CreateAccessKey, AssumeRole with MFA, GetSessionToken), a refused
AssumeRole with a wrong code, the federation endpoint's sign-in token and the console's cookies.
Then every byte of the SQLite store and of its write-ahead log, and every log line, is searched
for each of them. MFA codes (six digits, which may occur elsewhere by chance) are looked for in
the trail's events and the log lines only, as numbers standing on their own.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import botocore.session
import pytest
from botocore.exceptions import ClientError
from mfa_support import create_device, totp

from console.console_helpers import ConsoleClient, csrf_of
from rolehop import logs
from rolehop.services.pipeline.registry import OPERATIONS
from rolehop.services.pipeline.trail_records import (
    SECRET_NESTED_MEMBERS,
    SECRET_REQUEST_MEMBERS,
    SECRET_RESPONSE_MEMBERS,
    read_only,
)
from support import ROOT_SECRET, FakeClock, LiveServer

PASSWORDS = ("First-Passw0rd!-kqzv", "Second-Passw0rd!-wbxm", "Third-Passw0rd!-hjyt", "Fourth-Passw0rd!-rnpc")
BOB_PASSWORD = "Bobs-Passw0rd!-tgle"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@contextmanager
def serve_logs(path: Path) -> Iterator[Path]:
    """This process's logging as `rolehop serve` configures it (JSON lines, a writer thread), into
    `path`, with rolehop's own loggers at DEBUG; put back as it was afterwards."""
    root, ours = logging.getLogger(), logging.getLogger("rolehop")
    handlers, level, our_level = list(root.handlers), root.level, ours.level
    with path.open("w") as sink:
        stderr, sys.stderr = sys.stderr, sink  # configure() writes to the standard error it finds
        try:
            logs.configure("json")
        finally:
            sys.stderr = stderr
        ours.setLevel(logging.DEBUG)
        try:
            yield path
        finally:
            logs.drain()
            logs._writer = None  # request lines are `serve`'s only: none once the test is over
            for handler in [h for h in root.handlers if h not in handlers]:
                root.removeHandler(handler)
            root.setLevel(level)
            ours.setLevel(our_level)


def server_lines(path: Path) -> list[str]:
    """The log lines of the server's loggers (not of the test's own clients, in the same process)."""
    lines = []
    for text in path.read_text().splitlines():
        if not text.strip():
            continue
        logger = json.loads(text).get("logger", "")
        if logger.startswith(("rolehop", "uvicorn")):
            lines.append(text)
    return lines


def console(server: LiveServer) -> ConsoleClient:
    return ConsoleClient(server)


def post(client: ConsoleClient, path: str, data: dict[str, str]) -> Any:
    """A console form, posted with the CSRF token of its own page."""
    page = client.get(path)
    return client.http.post(path, data={"csrf_token": csrf_of(page.text), **data})


def trust_with_mfa(account: str, user: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:user/{user}"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                }
            ],
        }
    )


def test_no_secret_reaches_the_trail_the_store_or_the_logs(
    server: LiveServer, iam: Any, clock: FakeClock, tmp_path: Path
) -> None:
    account = server.account_id
    secrets: dict[str, str] = {"root secret key": ROOT_SECRET}
    codes: list[str] = []
    with serve_logs(tmp_path / "serve.log") as log_path:
        # passwords, an access key's secret
        iam.create_user(UserName="alice")
        iam.attach_user_policy(UserName="alice", PolicyArn=ADMIN)
        iam.create_login_profile(UserName="alice", Password=PASSWORDS[0])
        keys = iam.create_access_key(UserName="alice")["AccessKey"]
        secrets["alice's secret key"] = keys["SecretAccessKey"]
        alice = server.client_for("iam", keys)
        alice.change_password(OldPassword=PASSWORDS[0], NewPassword=PASSWORDS[1])
        iam.update_login_profile(UserName="alice", Password=PASSWORDS[2], PasswordResetRequired=True)

        # an MFA device: its seed, the codes that enable and resync it
        serial, seed, _uri = create_device(alice, "alice")
        secrets["the MFA seed"] = seed
        first, second = totp(seed, clock.now, -1), totp(seed, clock.now)
        alice.enable_mfa_device(
            UserName="alice", SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
        )
        codes += [first, second]
        clock.advance(30)
        first, second = totp(seed, clock.now), totp(seed, clock.now, 1)
        alice.resync_mfa_device(
            UserName="alice", SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
        )
        codes += [first, second]

        # STS with MFA: session tokens and their secrets; a refused code
        iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=trust_with_mfa(account, "alice"))
        iam.attach_role_policy(RoleName="deploy", PolicyArn=ADMIN)
        role_arn = f"arn:aws:iam::{account}:role/deploy"
        sts = server.client_for("sts", keys)
        clock.advance(90)
        code = totp(seed, clock.now)
        role = sts.assume_role(RoleArn=role_arn, RoleSessionName="alice", SerialNumber=serial, TokenCode=code)
        role_creds = role["Credentials"]
        codes.append(code)
        clock.advance(30)
        code = totp(seed, clock.now)
        session = sts.get_session_token(SerialNumber=serial, TokenCode=code)["Credentials"]
        codes.append(code)
        for name, creds in (("role", role_creds), ("GetSessionToken", session)):
            secrets[f"the {name} session's secret key"] = creds["SecretAccessKey"]
            secrets[f"the {name} session token"] = creds["SessionToken"]
        clock.advance(30)
        wrong = f"{(int(totp(seed, clock.now)) + 1) % 1_000_000:06d}"
        with pytest.raises(ClientError) as refused:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="alice", SerialNumber=serial, TokenCode=wrong)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        codes.append(wrong)

        # the console: sign-in with password and MFA code, the forced password change
        browser = console(server)
        signed = post(
            browser,
            "/signin",
            {"account": account, "username": "alice", "password": PASSWORDS[2], "next": "/"},
        )
        assert signed.headers["location"].startswith("/signin/mfa"), signed.text
        clock.advance(30)
        code = totp(seed, clock.now)
        verified = post(browser, "/signin/mfa", {"code": code})
        assert verified.headers["location"].startswith("/signin/password"), verified.text
        codes.append(code)
        changed = post(
            browser,
            "/signin/password",
            {"old_password": PASSWORDS[2], "new_password": PASSWORDS[3], "confirm_password": PASSWORDS[3]},
        )
        assert changed.status_code == 303, changed.text
        secrets["alice's console cookie"] = str(browser.http.cookies.get("rolehop-session"))
        browser.close()

        # the console: a user enrols a virtual MFA device (the seed on the page, two codes)
        iam.create_user(UserName="bob")
        iam.attach_user_policy(UserName="bob", PolicyArn=ADMIN)
        iam.create_login_profile(UserName="bob", Password=BOB_PASSWORD)
        bobs = console(server)
        post(bobs, "/signin", {"account": account, "username": "bob", "password": BOB_PASSWORD, "next": "/"})
        post(bobs, "/iam/users/bob/mfa", {"device_type": "virtual"})
        page = bobs.get("/iam/users/bob/mfa/virtual").text
        found = re.search(r'<code id="secret-key" class="secret-key">([A-Z2-7]+)</code>', page)
        assert found, page
        secrets["bob's MFA seed"] = found.group(1)
        first = totp(found.group(1), clock.now)
        clock.advance(30)
        second = totp(found.group(1), clock.now)
        done = post(bobs, "/iam/users/bob/mfa/virtual", {"code1": first, "code2": second})
        assert done.status_code == 200 and "MFA device assigned" in done.text, done.text
        codes += [first, second]
        secrets["bob's console cookie"] = str(bobs.http.cookies.get("rolehop-session"))
        bobs.close()

        # the federation endpoint: a sign-in token for the role's credentials, and its console session
        federated = console(server)
        session_param = json.dumps(
            {
                "sessionId": role_creds["AccessKeyId"],
                "sessionKey": role_creds["SecretAccessKey"],
                "sessionToken": role_creds["SessionToken"],
            }
        )
        token = federated.get("/federation", params={"Action": "getSigninToken", "Session": session_param})
        assert token.status_code == 200, token.text
        secrets["the sign-in token"] = token.json()["SigninToken"]
        query = urlencode(
            {
                "Action": "login",
                "Issuer": "https://broker.example/",
                "Destination": "/",
                "SigninToken": secrets["the sign-in token"],
            }
        )
        landed = federated.get(f"/federation?{query}")
        assert landed.status_code == 303, landed.text
        secrets["the federated console cookie"] = str(federated.http.cookies.get("rolehop-session"))
        federated.close()

        for password in PASSWORDS:
            secrets[f"the password {password}"] = password
        secrets["bob's password"] = BOB_PASSWORD
        assert all(len(value) >= 16 for value in secrets.values())  # none found by chance

        server.app.rt.trail.flush()
        database = server.config.data_dir / "rolehop.db"
        with sqlite3.connect(database) as conn:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the WAL keeps its frames: both are read
            events = [
                f"{record}\n{explanation or ''}"
                for record, explanation in conn.execute("SELECT record, explanation FROM trail_events")
            ]
        conn.close()

    assert len(events) >= 20  # the flow was recorded
    stored = {path.name: path.read_bytes() for path in database.parent.glob("rolehop.db*")}
    assert "rolehop.db" in stored and "rolehop.db-wal" in stored
    lines = server_lines(log_path)
    assert any('"logger": "rolehop.request"' in line for line in lines)  # request lines were captured
    leaks = []
    for what, value in secrets.items():
        leaks += [f"{what} is in {name}" for name, data in stored.items() if value.encode() in data]
        leaks += [f"{what} is in a log line: {line}" for line in lines if value in line]
        leaks += [f"{what} is in a trail event: {e}" for e in events if value in e]
    for code in codes:
        alone = re.compile(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])")
        leaks += [f"MFA code {code} is in a trail event: {e}" for e in events if alone.search(e)]
        leaks += [f"MFA code {code} is in a log line: {line}" for line in lines if alone.search(line)]
    assert not leaks, "\n".join(leaks)


# Members that botocore's models mark sensitive as personal data, not secrets, in operations rolehop
# does not serve (handshakes, responsibility transfers, AssumeRoleWithSAML's propagation context).
# Redaction goes by member name: listing these would hide every OU's and policy's Name, every Id and
# every tag Value, which CloudTrail shows.
NOT_SECRETS = frozenset(
    {
        "Id",
        "Name",
        "Value",
        "Notes",
        "SourceName",
        "Subject",
        "SubjectType",
        "Issuer",
        "TrustedIdentityPropagationContext",
    }
)
SERVICES = ("iam", "sts", "organizations", "cloudtrail")
NESTED = {f"{holder}.{name}" for holder, name in SECRET_NESTED_MEMBERS}


def sensitive_members(shape: Any, seen: frozenset[str] = frozenset(), holder: str = "") -> set[str]:
    """The names of the members marked sensitive anywhere inside `shape` ("Holder.Name" for those
    rolehop leaves out only under the member that holds them: SECRET_NESTED_MEMBERS)."""
    if shape is None or shape.name in seen:
        return set()
    seen = seen | {shape.name}
    found: set[str] = set()
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if member.metadata.get("sensitive"):
                found.add(f"{holder}.{name}" if (holder, name) in SECRET_NESTED_MEMBERS else name)
            found |= sensitive_members(member, seen, name)
    elif shape.type_name == "list":
        found |= sensitive_members(shape.member, seen, holder)
    elif shape.type_name == "map":
        found |= sensitive_members(shape.key, seen, holder) | sensitive_members(shape.value, seen, holder)
    return found


def test_every_member_the_models_mark_sensitive_is_redacted() -> None:
    session = botocore.session.get_session()
    for service in SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            op = model.operation_model(operation)
            served = (service, operation) in OPERATIONS
            requested = sensitive_members(op.input_shape)
            # a served operation's record: every sensitive request member, and every sensitive
            # response member when its response is recorded (not for reads, as CloudTrail)
            if not served:
                requested -= NOT_SECRETS
            missing = requested - SECRET_REQUEST_MEMBERS - NESTED
            assert not missing, f"{service} {operation}: {sorted(missing)} not in SECRET_REQUEST_MEMBERS"
            responded = sensitive_members(op.output_shape)
            if not served or (read_only(service, operation) and service != "sts"):
                responded -= NOT_SECRETS
            missing = responded - SECRET_RESPONSE_MEMBERS - NESTED
            assert not missing, f"{service} {operation}: {sorted(missing)} not in SECRET_RESPONSE_MEMBERS"
