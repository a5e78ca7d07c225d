"""Does slow work hold up fast requests? (issue 15, finding 8)

Starts `rolehop serve --dev` (one process, SQLite), and measures GetCallerIdentity's latency with
wrk twice: alone, then while a second wrk keeps 4 connections busy with UpdateLoginProfile (argon2id
hashing, tens of milliseconds of CPU each). Each request is signed once and replayed unchanged
(bench/wrk_replay.lua), as in run_sts.py.

    .venv/bin/python bench/head_of_line.py [--duration 10s] [--commit REV]

Prints GetCallerIdentity's requests/s and p50/p99 in both runs, and UpdateLoginProfile's rate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from run_sts import (
    BIN,
    FORM,
    LUA,
    REGION,
    ROOT_KEY_ID,
    ROOT_SECRET,
    USER,
    Principal,
    SignedRequest,
    check,
    snapshot_src,
    started,
)

PASSWORD = "Bench-Password-0123456789"
HASHING_CLIENTS = 4


def sign(url: str, who: Principal, service: str, params: dict[str, str]) -> SignedRequest:
    version = {"iam": "2010-05-08", "sts": "2011-06-15"}[service]
    body = urlencode({**params, "Version": version})
    request = AWSRequest(
        method="POST", url=url + "/", data=body, headers={"Content-Type": FORM, "Host": urlsplit(url).netloc}
    )
    SigV4Auth(who.credentials(), service, REGION).add_auth(request)
    return SignedRequest("POST", "/", {k: str(v) for k, v in request.headers.items()}, body)


def wrk(url: str, req: SignedRequest, connections: int, duration: str, workdir: Path, name: str) -> Any:
    spec = workdir / f"{name}.http"
    req.write(spec)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}", "--latency", "-s", str(LUA), url + "/"]
    return subprocess.Popen(
        command, env={**os.environ, "WRK_REQUEST": str(spec)}, stdout=subprocess.PIPE, text=True
    )


def result(proc: Any) -> dict[str, Any]:
    out, _ = proc.communicate()
    found = re.search(r"^RESULT (\{.*\})$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no RESULT line:\n{out}")
    figures: dict[str, Any] = json.loads(found.group(1))
    if figures["errors"]["status"]:
        raise SystemExit(f"non-2xx answers: {figures}")
    return figures


def summary(figures: dict[str, Any]) -> str:
    rate = figures["requests"] / (figures["duration_us"] / 1e6)
    lat = figures["latency_us"]
    return f"{rate:,.0f} req/s, p50 {lat['p50'] / 1000:.2f} ms, p99 {lat['p99'] / 1000:.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", default="10s", help="each wrk run (default 10s)")
    parser.add_argument("--commit", help="run rolehop from src/ of this commit instead of the working tree")
    args = parser.parse_args()
    env = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rolehop-hol-")))
        source = "working tree"
        if args.commit:
            commit, src = snapshot_src(args.commit, workdir)
            env["PYTHONPATH"] = str(src)
            source = f"src/ of commit {commit}"
        command = [str(BIN / "rolehop"), "serve", "--dev", "--port", "{port}", "--data-dir", "data"]
        server = stack.enter_context(started("rolehop", command, "/_rolehop/health", workdir, env))
        root = Principal(ROOT_KEY_ID, ROOT_SECRET)
        iam = boto3.client(
            "iam",
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id=ROOT_KEY_ID,
            aws_secret_access_key=ROOT_SECRET,
        )
        iam.create_user(UserName=USER)
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        iam.create_login_profile(UserName=USER, Password=PASSWORD)
        user = Principal(key["AccessKeyId"], key["SecretAccessKey"])
        identity = sign(server.url, user, "sts", {"Action": "GetCallerIdentity"})
        hashing = sign(
            server.url, root, "iam", {"Action": "UpdateLoginProfile", "UserName": USER, "Password": PASSWORD}
        )
        check(server.url, identity, f":user/{USER}</Arn>")
        check(server.url, hashing, "UpdateLoginProfileResponse")
        alone = result(wrk(server.url, identity, 1, args.duration, workdir, "identity-alone"))
        busy = wrk(server.url, hashing, HASHING_CLIENTS, args.duration, workdir, "update-login-profile")
        beside = result(wrk(server.url, identity, 1, args.duration, workdir, "identity-beside"))
        hashed = result(busy)
    print(f"rolehop: {source}; wrk -t1, one connection for GetCallerIdentity, {args.duration} each")
    print(f"GetCallerIdentity alone:                          {summary(alone)}")
    print(f"GetCallerIdentity beside {HASHING_CLIENTS} UpdateLoginProfile clients: {summary(beside)}")
    print(f"UpdateLoginProfile meanwhile:                     {summary(hashed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
