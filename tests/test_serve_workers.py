"""`rolehop serve --workers 2`: two processes on one store and key ring answer as one service."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from races import race

KEY, SECRET = "AKIAROLEHOPWORKERS01", "workers-test-secret"
POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def two_workers(tmp_path: Path) -> Iterator[str]:
    """The URL of `serve --dev --workers 2` on SQLite under tmp_path, once it answers."""
    port = free_port()
    env = dict(os.environ, ROLEHOP_ROOT_ACCESS_KEY_ID=KEY, ROLEHOP_ROOT_SECRET_ACCESS_KEY=SECRET)
    cmd = [
        sys.executable,
        "-m",
        "rolehop",
        "serve",
        "--dev",
        "--workers",
        "2",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
    ]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(url + "/_rolehop/health", timeout=1).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(
                        server.stderr.read().decode() if server.stderr else "no start"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(20)


def client(url: str, service: str, key: str = KEY, secret: str = SECRET, token: str | None = None) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),  # a lost race must show, not be retried away
    )


def test_two_workers_serve_one_organization(tmp_path: Path) -> None:
    with two_workers(tmp_path) as url:
        iam = client(url, "iam")
        iam.create_user(UserName="w")
        keys = iam.create_access_key(UserName="w")["AccessKey"]
        sts = client(url, "sts", keys["AccessKeyId"], keys["SecretAccessKey"])
        creds = sts.get_session_token()["Credentials"]
        session = client(url, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        for _ in range(20):  # new connections spread over both workers; every one must agree
            assert session.get_caller_identity()["Arn"].endswith(":user/w")
            assert [u["UserName"] for u in iam.list_users()["Users"]] == ["w"]


def test_two_workers_on_sqlite_race_writes_without_a_500_and_keep_quotas(tmp_path: Path) -> None:
    """Issue 15: "database is locked" and IntegrityError answered 500 here, and quotas were exceeded."""
    each = 20  # requests racing per operation, spread over both workers by their own connections
    with two_workers(tmp_path) as url:
        admin = client(url, "iam")
        admin.create_user(UserName="racer")
        for i in range(each):
            admin.create_group(GroupName=f"g{i}")
        arn = admin.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]["Arn"]
        clients = [client(url, "iam") for _ in range(3 * each)]
        calls = (
            [partial(c.create_access_key, UserName="racer") for c in clients[:each]]
            + [
                partial(c.create_policy_version, PolicyArn=arn, PolicyDocument=POLICY)
                for c in clients[each : 2 * each]
            ]
            + [
                partial(c.add_user_to_group, GroupName=f"g{i}", UserName="racer")
                for i, c in enumerate(clients[2 * each :])
            ]
        )
        for _ in range(6):
            outcomes = race(calls)
            keys, versions, groups = outcomes[:each], outcomes[each : 2 * each], outcomes[2 * each :]
            assert Counter(keys) == {"ok": 2, "LimitExceeded": each - 2}, outcomes
            assert Counter(versions) == {"ok": 4, "LimitExceeded": each - 4}, outcomes
            assert Counter(groups) == {"ok": 10, "LimitExceeded": each - 10}, outcomes
            assert len(admin.list_access_keys(UserName="racer")["AccessKeyMetadata"]) == 2
            assert len(admin.list_policy_versions(PolicyArn=arn)["Versions"]) == 5
            assert len(admin.list_groups_for_user(UserName="racer")["Groups"]) == 10
            # undo, and race again from the start
            for key in admin.list_access_keys(UserName="racer")["AccessKeyMetadata"]:
                admin.delete_access_key(UserName="racer", AccessKeyId=key["AccessKeyId"])
            for version in admin.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    admin.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            for group in admin.list_groups_for_user(UserName="racer")["Groups"]:
                admin.remove_user_from_group(GroupName=group["GroupName"], UserName="racer")
