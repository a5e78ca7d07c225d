"""Hostile input at volume (issue 15): `make fuzz`.

Starts `rolehop serve --dev` (one process, SQLite, a temporary data directory) and sends it
generated requests from separate client processes: random operations of IAM, STS and Organizations
with random parameters from botocore's models, signed with the root key; broken SigV4; random and
near-valid policy documents; console sign-in and switch-role forms; federation parameters (the
strategies are tests/hostile.py's, which tests/api/test_hostile_input.py runs a few hundred at a time).

    .venv/bin/python bench/fuzz.py [--requests 100000] [--workers 2] [--seed 15]

Prints the counts by kind and status, and every 5xx with the request that caused it. Exits 1 when
any answer was a 5xx or the server stopped answering.
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
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from run_sts import BIN, ROOT_KEY_ID, ROOT_SECRET, started  # noqa: E402

from hostile import Driver, Hostile, hostile_requests  # noqa: E402

CHUNK = 1000  # examples per hypothesis run: each run starts from a fresh seed and a small data tree
SHOWN = 20  # 5xx printed in full; the rest are counted


def worker(url: str, count: int, first_seed: int, results: Any) -> None:
    """Sends `count` generated requests; puts (counts, server errors) on the queue at the end."""
    counts: Counter[tuple[str, str]] = Counter()
    errors: list[str] = []
    with (
        httpx.Client(base_url=url, timeout=30) as signed_out,
        httpx.Client(base_url=url, timeout=30) as signed_in,
    ):
        driver = Driver(signed_out, signed_in, ROOT_KEY_ID, ROOT_SECRET)
        driver.prepare(signed_out.get("/_rolehop/health").json()["account"], user=f"fuzz-{first_seed}")

        def one(request: Hostile) -> None:
            try:
                answer = driver.send(request)
            except httpx.HTTPError as e:
                counts[(request.kind, type(e).__name__)] += 1
                errors.append(f"{type(e).__name__}: {e}\n  {request.describe()}")
                return
            counts[(request.kind, str(answer.status_code))] += 1
            if answer.status_code >= 500:
                errors.append(f"{answer.status_code} {answer.text[:500]!r}\n  {request.describe()}")

        for n in range(0, count, CHUNK):
            run = settings(
                max_examples=min(CHUNK, count - n),
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(hostile_requests())(one))
            seed(first_seed * 1_000_003 + n)(run)()
            results.put(("progress", min(CHUNK, count - n)))
    results.put(("done", (dict(counts), errors)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    # a SIGTERM (or a ^C where a background shell ignores SIGINT) still stops the server it started
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    command = [str(BIN / "rolehop"), "serve", "--dev", "--port", "{port}", "--data-dir", "data"]
    with (
        tempfile.TemporaryDirectory(prefix="rolehop-fuzz-") as tmp,
        started("rolehop", command, "/_rolehop/health", Path(tmp), env) as server,
    ):
        results: Any = multiprocessing.get_context("spawn").Queue()
        share = -(-args.requests // args.workers)
        procs = [
            multiprocessing.get_context("spawn").Process(
                target=worker, args=(server.url, share, args.seed * 100 + i, results), daemon=True
            )
            for i in range(args.workers)
        ]
        began = time.monotonic()
        for proc in procs:
            proc.start()
        counts: Counter[tuple[str, str]] = Counter()
        errors: list[str] = []
        finished = sent = 0
        while finished < len(procs):
            kind, value = results.get()
            if kind == "progress":
                sent += value
                if sent % 10_000 < value:
                    rate = sent / (time.monotonic() - began)
                    print(f"{sent:7} requests, {rate:.0f}/s", flush=True)
                continue
            finished += 1
            counts.update(value[0])
            errors += value[1]
        for proc in procs:
            proc.join()
        elapsed = time.monotonic() - began
        alive = httpx.get(server.url + "/_rolehop/health", timeout=10).status_code
        server_log = server.log.read_text(errors="replace")
    by_status: Counter[str] = Counter()
    for (_, status), n in counts.items():
        by_status[status] += n
    total = sum(counts.values())
    print(f"{total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s), health afterwards: {alive}")
    print("by status:", json.dumps(dict(sorted(by_status.items()))))
    for kind in sorted({k for k, _ in counts}):
        print(f"  {kind:10}", json.dumps({s: n for (k, s), n in sorted(counts.items()) if k == kind}))
    server_errors = sum(n for s, n in by_status.items() if not s.isdigit() or int(s) >= 500)
    print(f"5xx or no answer: {server_errors}")
    for error in errors[:SHOWN]:
        print(error)
    if "Traceback" in server_log:
        print("the server logged a traceback:\n" + server_log[-4000:])
    return 1 if server_errors or alive != 200 else 0


if __name__ == "__main__":
    sys.exit(main())
