"""Issue 14's question, answered as an operator would: "who assumed ak-main-account-admin in production
in the last day, and with MFA?" — one `aws cloudtrail lookup-events … | jq …` pipeline over
production's own event history, finding both the AssumeRole made with the AWS CLI and the console's
Switch Role."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from console_helpers import ADMIN_ROLE, NEW_PASSWORD, PRODUCTION, ConsoleClient, enroll_mfa

from support import FakeClock, LiveServer

ROLE = f"arn:aws:iam::{PRODUCTION}:role/{ADMIN_ROLE}"
# each AssumeRole of the role and each Switch Role into it: when, how, who, and whether with MFA (a
# Switch Role assumes the role too: its own AssumeRole, marked sessionCredentialFromConsole, is left
# to the SwitchRole record, which says who switched and with what MFA context)
WHO_ASSUMED = """
[.Events[].CloudTrailEvent | fromjson
 | select((.eventName == "AssumeRole" and .requestParameters.roleArn == $role
           and .sessionCredentialFromConsole != "true")
          or (.eventName == "SwitchRole" and .userIdentity.sessionContext.sessionIssuer.arn == $role))
 | {time: .eventTime,
    how: .eventName,
    who: (.additionalEventData.SwitchFrom // .requestParameters.serialNumber),
    mfa: (if .eventName == "SwitchRole"
          then .userIdentity.sessionContext.attributes.mfaAuthenticated == "true"
          else .requestParameters.serialNumber != null end)}]
"""


def aws(org: LiveServer, home: Path, creds: dict[str, str], *args: str) -> str:
    env = {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": org.url,
    }
    if creds.get("SessionToken"):
        env["AWS_SESSION_TOKEN"] = creds["SessionToken"]
    done = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_one_pipeline_names_the_cli_and_console_assumptions_with_their_mfa(
    org: LiveServer, clock: FakeClock, client: ConsoleClient, tmp_path: Path
) -> None:
    iam = org.client("iam")
    device = enroll_mfa(org, clock, "alice")
    serial = f"arn:aws:iam::{org.account_id}:mfa/alice"
    keys = iam.create_access_key(UserName="alice")["AccessKey"]

    # alice on the command line: AssumeRole with her MFA code
    assumed = aws(
        org, tmp_path, keys, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "alice",
        "--serial-number", serial, "--token-code", device.generate(clock.now),
    )  # fmt: skip
    admin = json.loads(assumed)["Credentials"]
    clock.advance(30)

    # alice in the console: signed in with MFA, Switch Role into production
    iam.update_login_profile(UserName="alice", Password=NEW_PASSWORD, PasswordResetRequired=False)
    client.sign_in("alice", NEW_PASSWORD)
    assert client.post_form("/signin/mfa", {"code": device.generate(clock.now)}).status_code == 303
    switched = client.post_form(
        "/switchrole",
        {"account": PRODUCTION, "role": ADMIN_ROLE, "display_name": "Production admin", "color": "green"},
    )
    assert switched.status_code == 303, switched.text
    org.app.rt.trail.flush()  # the console's and the CLI's read records: written within a second anyway

    # the operator, with production's own event history (as the admin role there)
    since = (clock.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    history = aws(org, tmp_path, admin, "cloudtrail", "lookup-events", "--start-time", since)
    jq = shutil.which("jq")
    assert jq is not None, "jq is installed by `make test`"
    answer = subprocess.run(
        [jq, "--arg", "role", ROLE, WHO_ASSUMED], input=history, capture_output=True, text=True, check=True
    )
    rows = json.loads(answer.stdout)
    assert [(r["how"], r["who"], r["mfa"]) for r in rows] == [
        ("SwitchRole", f"arn:aws:iam::{org.account_id}:user/alice", True),  # newest first
        ("AssumeRole", serial, True),
    ]
