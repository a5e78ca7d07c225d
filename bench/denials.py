"""What N identical AccessDenied answers cost the store and the log (issue 15, finding 7; since
issue 14 the explanations live in the audit trail).

Starts `rolehop serve --dev` (SQLite in a temporary data dir, one process), creates a user with an
access key and no permissions, signs ONE iam:ListUsers request and sends exactly those bytes N
times over one keep-alive connection: N identical denials. Then it stops the server and reports:

- the denied calls' trail events: rows, and bytes of their explanations (the first of a window
  holds the explanation, each repeat a reference to it) and of their whole rows (every column's
  stored length); and how much the database file grew (WAL checkpointed first);
- log lines and bytes the server wrote about denials;
- how many of the N request IDs `rolehop explain` still resolves (pipeline.denials.explain, the
  function behind the command), the first and the last among them.

    .venv/bin/python bench/denials.py [--requests 5000] [--commit REV]

--commit runs the server from src/ of a commit (git archive) instead of the working tree, so that a
before/after pair is two runs of this script. Load is sequential over one connection: this counts
what is written, it does not time anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from run_sts import BIN, FORM, REGION, ROOT_KEY_ID, ROOT_SECRET, snapshot_src, started

USER = "denied"

# Run in a separate interpreter (with the same PYTHONPATH as the server): how many request IDs
# `rolehop explain` resolves, and whether the first and the last are among them.
RESOLVE = """
import json, sys
from pathlib import Path
from rolehop.app import build_runtime
from rolehop.config import resolve
from rolehop.services.pipeline.denials import explain
ids = json.loads(Path(sys.argv[2]).read_text())
rt = build_runtime(resolve(data_dir=Path(sys.argv[1])))
found = [explain(rt, i) is not None for i in ids]
rt.store.close()
print(json.dumps({"resolved": sum(found), "first": found[0], "last": found[-1]}))
"""


def signed_list_users(url: str, key: dict[str, str]) -> tuple[dict[str, str], bytes]:
    body = urlencode({"Action": "ListUsers", "Version": "2010-05-08"})
    request = AWSRequest(
        method="POST", url=url + "/", data=body, headers={"Content-Type": FORM, "Host": urlsplit(url).netloc}
    )
    creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    SigV4Auth(creds, "iam", REGION).add_auth(request)
    return {k: str(v) for k, v in request.headers.items()}, body.encode()


def replay(url: str, headers: dict[str, str], body: bytes, count: int) -> list[str]:
    """Sends the same request `count` times; every answer must be AccessDenied. Returns the request IDs."""
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    ids = []
    try:
        for _ in range(count):
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            text = response.read()
            if response.status != 403 or b"<Code>AccessDenied</Code>" not in text:
                raise SystemExit(f"expected AccessDenied, got {response.status}:\n{text.decode()}")
            ids.append(response.headers["x-amzn-RequestId"])
    finally:
        conn.close()
    return ids


def denial_tables(db: Path) -> dict[str, dict[str, int]]:
    """Rows and stored bytes of the denied calls' trail events: their explanations, and their whole
    rows (after folding the WAL into the database)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        columns = [r[1] for r in conn.execute("PRAGMA table_info(trail_events)")]
        lengths = " + ".join(f"coalesce(length(CAST({c} AS BLOB)), 0)" for c in columns)
        rows, explained, whole = conn.execute(
            "SELECT count(*), coalesce(sum(length(CAST(explanation AS BLOB))), 0), "
            f"coalesce(sum({lengths}), 0) FROM trail_events WHERE error_code = 'AccessDenied'"
        ).fetchone()
        return {
            "explanations": {"rows": rows, "bytes": explained},
            "trail_events": {"rows": rows, "bytes": whole},
        }
    finally:
        conn.close()


def db_size(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db.stat().st_size


def denial_log(log: Path) -> tuple[int, int]:
    lines = [line for line in log.read_bytes().splitlines() if b"rolehop.denials" in line]
    return len(lines), sum(len(line) + 1 for line in lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rolehop-denials-")))
        source = "working tree"
        if args.commit:
            commit, src = snapshot_src(args.commit, workdir)
            env["PYTHONPATH"] = str(src)
            source = f"src/ of commit {commit}"
        data = workdir / "data"
        command = [str(BIN / "rolehop"), "serve", "--dev", "--port", "{port}", "--data-dir", str(data)]
        with started("rolehop", command, "/_rolehop/health", workdir, env) as server:
            iam = boto3.client(
                "iam",
                endpoint_url=server.url,
                region_name=REGION,
                aws_access_key_id=ROOT_KEY_ID,
                aws_secret_access_key=ROOT_SECRET,
            )
            iam.create_user(UserName=USER)
            key = iam.create_access_key(UserName=USER)["AccessKey"]
            db = data / "rolehop.db"
            size_before = db_size(db)
            log_before = denial_log(server.log)
            headers, body = signed_list_users(server.url, key)
            ids = replay(server.url, headers, body, args.requests)
        # the server has stopped (and flushed); count what it left behind
        tables = denial_tables(db)
        lines, log_bytes = denial_log(server.log)
        ids_file = workdir / "ids.json"
        ids_file.write_text(json.dumps(ids))
        resolved = subprocess.run(
            [sys.executable, "-c", RESOLVE, str(data), str(ids_file)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        )
        return {
            "source": source,
            "requests": args.requests,
            "tables": tables,
            "rows": tables["trail_events"]["rows"],
            "bytes": tables["explanations"]["bytes"],
            "event_bytes": tables["trail_events"]["bytes"],
            "database_growth": db_size(db) - size_before,
            "log_lines": lines - log_before[0],
            "log_bytes": log_bytes - log_before[1],
            "explain": json.loads(resolved.stdout),
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000, help="identical denied requests (default 5000)")
    parser.add_argument("--commit", help="run rolehop from src/ of this commit instead of the working tree")
    result = run(parser.parse_args())
    print(json.dumps(result, indent=2))
    n = result["requests"]
    print(
        f"\n{n} identical denials ({result['source']}): {result['rows']} trail events "
        f"({result['event_bytes']:,} bytes), {result['bytes']:,} bytes of explanations, "
        f"database +{result['database_growth']:,} bytes; {result['log_lines']} log lines, "
        f"{result['log_bytes']:,} bytes; explain resolves {result['explain']['resolved']} of {n} "
        f"request IDs (first: {result['explain']['first']}, last: {result['explain']['last']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
