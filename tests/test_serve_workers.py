"""`rolehop serve --workers 2`: two processes on one store and key ring answer as one service."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

KEY, SECRET = "AKIAROLEHOPWORKERS01", "workers-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_serve_one_organization(tmp_path: Path) -> None:
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
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        )
        iam.create_user(UserName="w")
        keys = iam.create_access_key(UserName="w")["AccessKey"]
        sts = boto3.client(
            "sts",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
        )
        creds = sts.get_session_token()["Credentials"]
        session = boto3.client(
            "sts",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        for _ in range(20):  # new connections spread over both workers; every one must agree
            assert session.get_caller_identity()["Arn"].endswith(":user/w")
            assert [u["UserName"] for u in iam.list_users()["Users"]] == ["w"]
    finally:
        server.terminate()
        server.wait(20)
