"""A soak (issue 15): mixed load for 10 minutes, the server's memory sampled from /proc every 10 s.

Starts `rolehop serve --dev` (one process, SQLite, a temporary data directory), sets up a user, its
key and a role it may assume (run_sts.set_up), then load processes (separate from the server and
from this one) loop over a mix of reads, writes, STS, console and federation requests, each signed
with botocore's SigV4Auth (never boto3 in a loop, which would measure itself):

    GetCallerIdentity and AssumeRole (the user's key), ListUsers and GetUser (root), CreateUser
    then DeleteUser (root: writes), a console sign-in page, a federation getSigninToken, and one
    request with a wrong signature.

    .venv/bin/python bench/soak.py [--duration 600] [--clients 2] [--interval 10]

Prints one line per sample (the server's resident memory, requests and 5xx so far), then the
counts by request and status. Exits 1 on any 5xx or when resident memory at the end is more than
--growth-limit MB above the first sample taken after warm-up.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from run_sts import BIN, FORM, REGION, ROOT_KEY_ID, ROOT_SECRET, Fixture, Principal, set_up, started

ROOT = Principal(ROOT_KEY_ID, ROOT_SECRET)


def signed(url: str, who: Principal, service: str, params: dict[str, str]) -> httpx.Request:
    body = urlencode(params).encode()
    request = AWSRequest("POST", url + "/", data=body, headers={"Content-Type": FORM})
    SigV4Auth(who.credentials(), service, REGION).add_auth(request)
    return httpx.Request("POST", url + "/", content=body, headers=dict(request.headers.items()))


def mix(url: str, fixture: Fixture, worker: int) -> list[tuple[str, Callable[[int], httpx.Request]]]:
    """The requests of one round, each built fresh (signed now) from the round's number."""
    iam, sts = "2010-05-08", "2011-06-15"
    session = json.dumps(
        {
            "sessionId": fixture.session.access_key_id,
            "sessionKey": fixture.session.secret,
            "sessionToken": fixture.session.token,
        }
    )
    federation = f"{url}/federation?" + urlencode({"Action": "getSigninToken", "Session": session})
    wrong = Principal(ROOT_KEY_ID, "not-the-secret")

    def user(n: int) -> str:
        return f"soak-{worker}-{n}"

    return [
        (
            "GetCallerIdentity",
            lambda n: signed(url, fixture.user, "sts", {"Action": "GetCallerIdentity", "Version": sts}),
        ),
        (
            "AssumeRole",
            lambda n: signed(
                url,
                fixture.user,
                "sts",
                {
                    "Action": "AssumeRole",
                    "Version": sts,
                    "RoleArn": fixture.role_arn,
                    "RoleSessionName": f"s{n}",
                },
            ),
        ),
        ("ListUsers", lambda n: signed(url, ROOT, "iam", {"Action": "ListUsers", "Version": iam})),
        (
            "GetUser",
            lambda n: signed(url, ROOT, "iam", {"Action": "GetUser", "Version": iam, "UserName": "bench"}),
        ),
        (
            "CreateUser",
            lambda n: signed(url, ROOT, "iam", {"Action": "CreateUser", "Version": iam, "UserName": user(n)}),
        ),
        (
            "DeleteUser",
            lambda n: signed(url, ROOT, "iam", {"Action": "DeleteUser", "Version": iam, "UserName": user(n)}),
        ),
        ("console /signin", lambda n: httpx.Request("GET", url + "/signin")),
        ("federation", lambda n: httpx.Request("GET", federation)),
        (
            "wrong signature",
            lambda n: signed(url, wrong, "sts", {"Action": "GetCallerIdentity", "Version": sts}),
        ),
    ]


def load(url: str, fixture: Fixture, worker: int, until: float, results: Any) -> None:
    counts: Counter[tuple[str, int]] = Counter()
    with httpx.Client(timeout=30) as http:
        n = 0
        while time.time() < until:
            for name, build in mix(url, fixture, worker):
                try:
                    status = http.send(build(n)).status_code
                except httpx.HTTPError:
                    status = 599  # no answer: counted with the 5xx
                counts[(name, status)] += 1
                results.put(("tick", status >= 500))
            n += 1
    results.put(("done", dict(counts)))


def resident_kb(pid: int) -> int:
    """VmRSS of the server process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--clients", type=int, default=2, help="load processes")
    parser.add_argument("--interval", type=float, default=10, help="seconds between memory samples")
    parser.add_argument("--growth-limit", type=float, default=64, help="MB of growth allowed after warm-up")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the server started here
    env = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    command = [str(BIN / "rolehop"), "serve", "--dev", "--port", "{port}", "--data-dir", "data"]
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="rolehop-soak-") as tmp,
        started("rolehop", command, "/_rolehop/health", Path(tmp), env) as server,
    ):
        fixture = set_up(server.url, ROOT)
        results: Any = context.Queue()
        began = time.time()
        until = began + args.duration
        procs = [
            context.Process(target=load, args=(server.url, fixture, i, until, results), daemon=True)
            for i in range(args.clients)
        ]
        for proc in procs:
            proc.start()
        samples: list[tuple[float, int]] = []
        requests = errors = done = 0
        counts: Counter[tuple[str, int]] = Counter()
        next_sample = began
        while done < len(procs):
            while time.time() >= next_sample:
                at, kb = time.time() - began, resident_kb(server.pid)
                samples.append((at, kb))
                print(
                    f"{at:6.0f} s  rss {kb / 1024:7.1f} MB  requests {requests:7}  5xx {errors}", flush=True
                )
                next_sample += args.interval
            try:
                kind, value = results.get(timeout=0.5)
            except Exception:  # queue.Empty: nothing in the last half second
                continue
            if kind == "tick":
                requests += 1
                errors += value
            else:
                done += 1
                counts.update(value)
        for proc in procs:
            proc.join()
        samples.append((time.time() - began, resident_kb(server.pid)))
        elapsed = time.time() - began
    print(
        f"\n{requests} requests in {elapsed:.0f} s ({requests / elapsed:.0f}/s), 5xx or no answer: {errors}"
    )
    for (name, status), n in sorted(counts.items()):
        print(f"  {name:18} {status}  {n}")
    warm = samples[min(1, len(samples) - 1)][1]  # after the first interval: caches and pools filled
    growth = (samples[-1][1] - warm) / 1024
    peak = max(kb for _, kb in samples) / 1024
    print(
        f"rss: first {samples[0][1] / 1024:.1f} MB, after warm-up {warm / 1024:.1f} MB, peak {peak:.1f} MB, "
        f"end {samples[-1][1] / 1024:.1f} MB, growth after warm-up {growth:+.1f} MB"
    )
    return 1 if errors or growth > args.growth_limit else 0


if __name__ == "__main__":
    sys.exit(main())
