"""What a crash loses of the audit trail. A change's event is written in the change's own transaction,
so a SIGKILL loses none of the acknowledged changes' events; reads and STS calls are recorded in
batches, written every FLUSH_SECONDS, so a SIGKILL loses at most those of the last batch (the calls
answered within FLUSH_SECONDS of the kill); a SIGTERM (a clean shutdown) writes them all first.

A real `rolehop serve --dev` on SQLite; the events are counted in the store (sqlite3), by request ID.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from rolehop.services.pipeline.trail import FLUSH_SECONDS
from test_crash_recovery import KEY, SECRET, serving  # one `rolehop serve` process, as crash tests run it

LOAD_SECONDS = 2.5  # long enough for the trail's thread to write a few batches
MIN_ROUNDS = 8  # and at least this many rounds of calls, however slow the machine
# a batch starts at most FLUSH_SECONDS after its first record (once the previous one is written), and
# takes a moment to commit: on a busy machine (2 cores shared with other tests) up to about a second
WRITE_SLACK = 1.0


def client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


def request_id(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])


@dataclass
class Load:
    """What the server acknowledged: changes, and reads and STS calls with when they were answered."""

    changes: list[str] = field(default_factory=list)
    batched: list[tuple[str, float]] = field(default_factory=list)  # (request ID, monotonic time)


def run_load(url: str) -> Load:
    """IAM writes, IAM reads and STS calls, interleaved, until LOAD_SECONDS have passed."""
    iam, sts = client(url, "iam"), client(url, "sts")
    load = Load()
    end = time.monotonic() + LOAD_SECONDS
    n = 0
    while time.monotonic() < end or n < MIN_ROUNDS:
        load.changes.append(request_id(iam.create_user(UserName=f"u{n}")))
        for _ in range(3):
            rid = request_id(iam.list_users(MaxItems=1))
            load.batched.append((rid, time.monotonic()))
            rid = request_id(sts.get_caller_identity())
            load.batched.append((rid, time.monotonic()))
        n += 1
    return load


def recorded(data_dir: Path) -> set[str]:
    """The request IDs of every event in the store."""
    conn = sqlite3.connect(data_dir / "rolehop.db")
    try:
        return {str(r) for (r,) in conn.execute("SELECT request_id FROM trail_events") if r}
    finally:
        conn.close()


def test_sigkill_loses_no_change_and_at_most_the_last_batch_of_reads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data, None) as (server, url):
        load = run_load(url)
        killed_at = time.monotonic()
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    with serving(data, None) as (_server, url):  # the store opens again after the crash
        found = recorded(data)
        client(url, "sts").get_caller_identity()
    assert set(load.changes) <= found  # every acknowledged change has its event
    lost = [(rid, at) for rid, at in load.batched if rid not in found]
    ages = sorted(round(killed_at - at, 3) for _rid, at in lost)
    summary = f"lost {len(lost)} of {len(load.batched)} reads and STS calls, answered {ages} s before"
    # only calls answered within a batch's interval of the kill may be lost: older ones were written
    assert all(age <= FLUSH_SECONDS + WRITE_SLACK for age in ages), summary
    assert len(lost) < len(load.batched) / 2, summary  # batches were written all along


def test_sigterm_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data, None) as (server, url):
        load = run_load(url)
        server.send_signal(signal.SIGTERM)
        assert server.wait(20) == -signal.SIGTERM  # uvicorn raises it again once shut down
    found = recorded(data)
    assert set(load.changes) <= found
    assert {rid for rid, _at in load.batched} <= found  # the last batch was written on the way out
