"""How long a revoked access key keeps working on another node: the multi-node invalidation window.

Starts two `rolehop serve --dev` processes (nodes A and B) on one store and one key ring: a new
PostgreSQL database (default; dropped afterwards) or, with --sqlite, one SQLite file (what
`serve --workers N` shares). Each round creates an access key on A, has B authenticate with it
(so B caches it), sets it Inactive on A, then polls B with GetCallerIdentity until B refuses it.
The window is from A's answer to B's first refusal; B's refusals before that are impossible (it
held the key). Prints min / median / p95 / max over the rounds.

    .venv/bin/python bench/invalidation_window.py [--rounds 50] [--sqlite]

The PostgreSQL server is ROLEHOP_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from run_sts import BIN, ROOT_KEY_ID, ROOT_SECRET, started
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get("ROLEHOP_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
GIVE_UP = 10.0  # seconds: past the 5 s cache window, so a broken notification shows as ~5 s, not a hang


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"rolehop_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def client(url: str, service: str, key: str, secret: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def one_round(a_url: str, b_url: str, n: int) -> float:
    iam = client(a_url, "iam", ROOT_KEY_ID, ROOT_SECRET)
    name = f"window-{n}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    on_b = client(b_url, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    on_b.get_caller_identity()  # B caches the key
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    revoked = time.monotonic()
    while time.monotonic() - revoked < GIVE_UP:
        try:
            on_b.get_caller_identity()
        except ClientError as e:
            if e.response["Error"]["Code"] != "InvalidClientTokenId":
                raise
            return time.monotonic() - revoked
    raise RuntimeError(f"round {n}: node B still accepted the key after {GIVE_UP} s")


def help_of_serve() -> str:
    return subprocess.run([str(BIN / "rolehop"), "serve", "--help"], capture_output=True, text=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--sqlite", action="store_true", help="one SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    env = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rolehop-window-")))
        data = workdir / "data"
        if args.sqlite:
            url = f"sqlite:///{data / 'rolehop.db'}"
            store = "SQLite, one file"
        else:
            url = stack.enter_context(fresh_pg_database())
            store = "PostgreSQL"
        serve = [str(BIN / "rolehop"), "serve", "--dev", "--port", "{port}"]
        serve += ["--data-dir", str(data), "--database-url", url]
        # node A creates the schema (`serve --migrate`, where this rolehop asks for it), B finds it
        first = [*serve, "--migrate"] if "--migrate" in help_of_serve() else serve
        a = stack.enter_context(started("node-a", first, "/_rolehop/health", workdir, env))
        b = stack.enter_context(started("node-b", serve, "/_rolehop/health", workdir, env))
        windows = sorted(one_round(a.url, b.url, n) for n in range(args.rounds))
    ms = [w * 1000 for w in windows]
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"store: {store}; {args.rounds} rounds: revoke on node A, poll node B until it refuses")
    print(f"window ms: min {ms[0]:.1f}, median {statistics.median(ms):.1f}, p95 {p95:.1f}, max {ms[-1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
