"""Tamper evidence of the audit trail, end to end: a live server records real boto3 calls and signs
digests; `rolehop audit verify` passes on the untouched store and, on copies tampered with directly
in SQLite, names the event altered, removed, reordered or cut off, and the forged digest; pinning the
public key defeats a store rewritten with a key of its own. Retention prunes whole signed ranges
(recorded, still verifying), and `export` / `tail` print the stored records.

The server's clock starts 100 days back, so its events are past the 90-day retention for a `prune`
run on today's clock."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from trail_support import module_server

from rolehop.cli.main import main
from rolehop.core.keyring import key_line
from rolehop.core.trail_chain import digest_payload, key_id, link, public_key_of, sign
from rolehop.services.admin.audit import export
from rolehop.services.pipeline import trail as trail_module
from rolehop.services.pipeline.trail import PRUNE_EVENT, PRUNE_SOURCE, stored_fields
from rolehop.store.sql import SqlStore
from support import FakeClock, LiveServer


@dataclass(frozen=True)
class Trail:
    """What the module's server recorded: its chain, the last signed digest's end and the head."""

    live: LiveServer
    chain: str
    first_digested: int  # the first digest's to_seq
    digested: int  # the last digest's to_seq
    head: int  # events after `digested` are not yet signed
    public_hex: str


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trail]:
    with module_server(tmp_path_factory.mktemp("integrity") / "data") as live:
        live.clock.now -= timedelta(days=100)
        iam, sts = live.client("iam"), live.client("sts")
        for name in ("alice", "bob", "carol"):
            iam.create_user(UserName=name)
            live.clock.advance(1)
        iam.list_users()
        sts.get_caller_identity()
        keys = iam.create_access_key(UserName="alice")["AccessKey"]
        with pytest.raises(ClientError):  # an AccessDenied is an event like any other
            live.client_for("iam", keys).list_users()
        iam.get_user(UserName="bob")
        first = live.app.rt.trail.seal_digest()
        assert first is not None and first.from_seq == 1
        live.clock.advance(60)
        iam.create_user(UserName="dave")
        iam.tag_user(UserName="dave", Tags=[{"Key": "team", "Value": "audit"}])
        second = live.app.rt.trail.seal_digest()
        assert second is not None and second.previous_signature == first.signature
        iam.create_user(UserName="erin")  # after the last digest: not yet signed
        sts.get_caller_identity()
        live.app.rt.trail.flush()
        public = run(["audit", "public-key", "--hex"], live.config.data_dir).output.strip()
        yield Trail(live, live.app.rt.trail.chain_id, first.to_seq, second.to_seq, second.to_seq + 2, public)


def run(args: list[str], data_dir: Path) -> Any:
    return CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)


def copy(trail: Trail, tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    """A consistent copy of the server's store (SQLite's backup: the server keeps writing) and its key
    ring, and a connection to the copy to tamper with."""
    target = tmp_path / "copy"
    target.mkdir()
    source = sqlite3.connect(trail.live.config.data_dir / "rolehop.db")
    db = sqlite3.connect(target / "rolehop.db", isolation_level=None)
    source.backup(db)
    source.close()
    shutil.copy(trail.live.config.data_dir / "keyring", target / "keyring")
    return target, db


def row(db: sqlite3.Connection, chain: str, seq: int) -> dict[str, Any]:
    cursor = db.execute("SELECT * FROM trail_events WHERE chain_id = ? AND seq = ?", (chain, seq))
    names = [d[0] for d in cursor.description]
    found = cursor.fetchone()
    assert found is not None, seq
    return dict(zip(names, found, strict=True))


def verify(data_dir: Path, *pinned: str) -> Any:
    args = ["audit", "verify"]
    for key in pinned:
        args += ["--public-key", key]
    return run(args, data_dir)


def failed(result: Any, kind: str, chain: str, seq: int) -> str:
    assert result.exit_code == 1, result.output
    assert f"TAMPERED {kind}: chain {chain} seq {seq}:" in result.output, result.output
    assert "FAILED" in result.output
    return str(result.output)


def test_the_untouched_trail_verifies_with_its_counts(trail: Trail, tmp_path: Path) -> None:
    result = verify(trail.live.config.data_dir)
    assert result.exit_code == 0, result.output
    assert (
        f"1 chain(s), {trail.head} event(s), 2 signed digest(s); 2 event(s) not yet covered" in result.output
    )
    assert "read from the store being verified" in result.output
    assert "OK: no event was altered, removed or reordered." in result.output
    pinned = verify(trail.live.config.data_dir, trail.public_hex)
    assert pinned.exit_code == 0 and "pinned public key" in pinned.output, pinned.output
    pem = tmp_path / "trail.pem"
    pem.write_text(run(["audit", "public-key"], trail.live.config.data_dir).output.split("\n", 2)[2])
    assert verify(trail.live.config.data_dir, str(pem)).exit_code == 0


def test_an_altered_event_is_named(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    victim = row(db, trail.chain, 2)
    assert '"userName":"bob"' in victim["record"]
    db.execute(
        "UPDATE trail_events SET record = replace(record, 'bob', 'mallory') WHERE chain_id = ? AND seq = 2",
        (trail.chain,),
    )
    output = failed(verify(data), "altered", trail.chain, 2)
    assert victim["event_id"] in output and victim["request_id"] in output
    assert "no longer hash to its stored link" in output


def test_a_lookup_column_altered_alone_is_caught_too(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    db.execute(
        "UPDATE trail_events SET error_code = NULL WHERE chain_id = ? AND error_code IS NOT NULL",
        (trail.chain,),
    )
    result = verify(data)
    assert result.exit_code == 1 and "TAMPERED altered" in result.output, result.output


def test_a_deleted_event_is_named_by_its_place(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    before, after = row(db, trail.chain, 3), row(db, trail.chain, 5)
    db.execute("DELETE FROM trail_events WHERE chain_id = ? AND seq = 4", (trail.chain,))
    output = failed(verify(data), "removed", trail.chain, 4)
    assert "seq 4 is missing" in output and before["event_id"] in output and after["event_id"] in output


def test_a_swapped_pair_is_named_as_reordered(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    a, b = row(db, trail.chain, 5), row(db, trail.chain, 6)
    # swap the two rows' places (their seqs), as a reordering in the store would; resources follow
    for table in ("trail_events", "trail_resources"):
        db.execute(f"UPDATE {table} SET seq = -1 WHERE chain_id = ? AND seq = 5", (trail.chain,))
        db.execute(f"UPDATE {table} SET seq = 5 WHERE chain_id = ? AND seq = 6", (trail.chain,))
        db.execute(f"UPDATE {table} SET seq = 6 WHERE chain_id = ? AND seq = -1", (trail.chain,))
    output = failed(verify(data), "reordered", trail.chain, 6)
    assert a["event_id"] in output and b["event_id"] in output and "were swapped" in output


def test_signed_events_cut_off_the_end_are_caught_by_the_digest(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    cut = trail.digested - 1
    db.execute("DELETE FROM trail_events WHERE chain_id = ? AND seq >= ?", (trail.chain, cut))
    db.execute(
        "UPDATE trail_chains SET seq = ?, hash = ? WHERE chain_id = ?",
        (cut - 1, row(db, trail.chain, cut - 1)["hash"], trail.chain),
    )
    output = failed(verify(data), "cut-off", trail.chain, cut)
    assert f"seq {cut}..{trail.digested} are missing from the chain's end" in output


def test_an_unsigned_tail_cut_off_is_caught_by_the_head_row(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    db.execute("DELETE FROM trail_events WHERE chain_id = ? AND seq > ?", (trail.chain, trail.digested))
    output = failed(verify(data), "cut-off", trail.chain, trail.digested + 1)
    assert "head row" in output


def test_an_altered_digest_fails_its_signature(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    db.execute(
        "UPDATE trail_digests SET to_seq = to_seq + 1 WHERE chain_id = ? AND to_seq = ?",
        (trail.chain, trail.digested),
    )
    output = failed(verify(data), "digest", trail.chain, trail.digested + 1)
    assert "does not verify" in output


def test_a_store_rewritten_with_its_own_key_passes_only_unpinned(trail: Trail, tmp_path: Path) -> None:
    """An attacker with the database but not the key ring alters an event, recomputes every link,
    and re-signs the digests with a key of their own, stored in place of the real one."""
    data, db = copy(trail, tmp_path)
    # the events as the store reads them, to recompute their links the way rolehop does
    store = SqlStore(f"sqlite:///{data / 'rolehop.db'}")
    with store.transaction() as tx:
        events = tx.chain_events(trail.chain)
        digests = tx.digests(trail.chain)
    store.close()
    forged_private = bytes(range(1, 33))
    forged_public = public_key_of(forged_private)
    prev = "0" * 64
    links = {}
    for stored in events:
        fields = stored_fields(stored.event)
        if stored.seq == 2:
            fields = {**fields, "record": fields["record"].replace("bob", "mallory")}
            db.execute(
                "UPDATE trail_events SET record = ? WHERE chain_id = ? AND seq = 2",
                (fields["record"], trail.chain),
            )
        this = link(prev, trail.chain, stored.seq, fields)
        db.execute(
            "UPDATE trail_events SET prev_hash = ?, hash = ? WHERE chain_id = ? AND seq = ?",
            (prev, this, trail.chain, stored.seq),
        )
        links[stored.seq] = prev = this
    db.execute("UPDATE trail_chains SET hash = ? WHERE chain_id = ?", (prev, trail.chain))
    before = ""
    db.execute("DELETE FROM trail_signing_keys")
    db.execute(
        "INSERT INTO trail_signing_keys (key_id, public_key, sealed_private, created_at) VALUES (?, ?, ?, ?)",
        (key_id(forged_public), forged_public, b"", "2026-01-01 00:00:00"),
    )
    for d in digests:
        last = links[d.to_seq]
        signature = sign(
            forged_private, digest_payload(trail.chain, d.from_seq, d.to_seq, last, d.signed_at, before)
        )
        db.execute(
            "UPDATE trail_digests SET last_hash = ?, key_id = ?, previous_signature = ?, signature = ? "
            "WHERE chain_id = ? AND to_seq = ?",
            (last, key_id(forged_public), before, signature, trail.chain, d.to_seq),
        )
        before = signature
    unpinned = verify(data)
    assert unpinned.exit_code == 0, unpinned.output  # what pinning is for
    assert "read from the store being verified" in unpinned.output
    output = failed(verify(data, trail.public_hex), "digest", trail.chain, digests[0].to_seq)
    assert f"names signing key {key_id(forged_public)}, which is not in the pinned keys" in output


def test_a_wrong_pinned_key_fails(trail: Trail, tmp_path: Path) -> None:
    stranger = public_key_of(bytes(32)).hex()
    result = verify(trail.live.config.data_dir, stranger)
    assert result.exit_code == 1 and "not in the pinned keys" in result.output, result.output
    bad = verify(trail.live.config.data_dir, "not-a-key")
    assert bad.exit_code == 2 and "--public-key" in bad.output


def test_export_prints_the_stored_records_oldest_first(trail: Trail, tmp_path: Path) -> None:
    data, db = copy(trail, tmp_path)
    stored = [
        r[0]
        for r in db.execute("SELECT record FROM trail_events ORDER BY event_time, chain_id, seq").fetchall()
    ]
    out = tmp_path / "events.jsonl"
    result = run(
        ["audit", "export", "--since", "2000-01-01", "--format", "jsonl", "--output", str(out)], data
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == stored
    first_time = json.loads(stored[0])["eventTime"]
    until = run(["audit", "export", "--until", first_time], data)
    assert [json.loads(line)["eventTime"] for line in until.output.splitlines()] == [
        json.loads(r)["eventTime"] for r in stored if json.loads(r)["eventTime"] <= first_time
    ]
    assert run(["audit", "export", "--since", "2d"], data).output == ""  # the events are 100 days old
    assert run(["audit", "export", "--since", "yesterday-ish"], data).exit_code == 2
    tail = run(["audit", "tail", "-n", "3"], data)
    assert tail.output.splitlines() == stored[-3:]


def test_tail_follows_new_events_and_stops_on_ctrl_c(trail: Trail) -> None:
    live = trail.live
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rolehop",
            "audit",
            "tail",
            "--follow",
            "-n",
            "1",
            "--data-dir",
            str(live.config.data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    started, got = threading.Event(), threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            started.set()
            if '"userName":"tailed"' in line:
                got.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(30)  # it printed the newest event: it follows from there
        live.client("iam").create_user(UserName="tailed")  # a change: written as it commits
        assert got.wait(30), lines
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    reader.join(10)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    created = [json.loads(line) for line in lines]
    assert created[-1]["eventName"] == "CreateUser" and created[-1]["requestParameters"] == {
        "userName": "tailed"
    }
    assert len(created) == 2  # the newest one it started with, then the new one


def test_prune_removes_whole_signed_ranges_records_itself_and_still_verifies(
    trail: Trail, tmp_path: Path
) -> None:
    data, db = copy(trail, tmp_path)
    ring = (data / "keyring").read_text()
    (data / "keyring").write_text(key_line("k1", bytes(32)) + "\n")  # not the server's ring
    foreign = run(["audit", "prune"], data)
    assert foreign.exit_code == 1 and "opens none of the audit trail's signing keys" in foreign.output
    (data / "keyring").write_text(ring)
    result = run(["audit", "prune"], data)  # today's clock: the server's events are 100 days old
    assert result.exit_code == 0, result.output
    assert f"of chain {trail.chain} through seq {trail.digested}" in result.output, result.output
    remaining = db.execute("SELECT min(seq) FROM trail_events WHERE chain_id = ?", (trail.chain,)).fetchone()[
        0
    ]
    assert remaining == trail.digested + 1  # the unsigned tail stays: only signed ranges go
    digests = db.execute("SELECT to_seq FROM trail_digests WHERE chain_id = ?", (trail.chain,)).fetchall()
    assert digests == [(trail.digested,)]  # the anchor of what remains
    checked = verify(data, trail.public_hex)
    assert checked.exit_code == 0, checked.output
    assert "pruned through" in checked.output and "no prune record" not in checked.output
    records = [json.loads(line) for line in run(["audit", "export"], data).output.splitlines()]
    prunes = [r for r in records if r["eventSource"] == PRUNE_SOURCE]
    assert [r["eventName"] for r in prunes] == [PRUNE_EVENT]
    details = prunes[0]["serviceEventDetails"]
    assert details["chainId"] == trail.chain and details["throughSeq"] == trail.digested
    assert details["eventsRemoved"] == trail.digested and details["retentionDays"] == 90
    assert prunes[0]["eventType"] == "AwsServiceEvent" and prunes[0]["userAgent"] == "rolehop audit prune"
    again = run(["audit", "prune"], data)
    assert again.exit_code == 0 and "Nothing to prune" in again.output


def test_the_server_prunes_once_its_clock_passes_the_retention(
    trail: Trail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last in the module: it moves the server's clock 91 days on and prunes the live store, a
    digested range at a time (a batch of 3 events here), each step with its record."""
    live = trail.live
    monkeypatch.setattr(trail_module, "PRUNE_BATCH", 3)
    assert trail.first_digested > 3 and trail.digested - trail.first_digested <= 3
    live.clock.advance(timedelta(days=91).total_seconds())
    live.app.rt.trail.prune()  # as its thread does hourly (which may have done it first)
    live.app.rt.trail.seal_digest()
    result = verify(live.config.data_dir, trail.public_hex)
    assert result.exit_code == 0, result.output
    prunes = [e for e in export(live.app.rt.store) if e.event.event_name == PRUNE_EVENT]
    steps = [json.loads(p.event.record)["serviceEventDetails"] for p in prunes]
    assert [(s["throughSeq"], s["eventsRemoved"]) for s in steps] == [
        (trail.first_digested, trail.first_digested),  # more than a batch: one digested range anyway
        (trail.digested, trail.digested - trail.first_digested),
    ]
    with live.app.rt.store.transaction() as tx:
        assert tx.chain_events(trail.chain, limit=1)[0].seq == trail.digested + 1
        assert tx.digests(trail.chain)[0].to_seq == trail.digested


def test_digests_verify_and_prune_on_postgresql(tmp_path: Path, clock: FakeClock, pg_url: str) -> None:
    """Times and links survive PostgreSQL's round trip (timestamptz, microseconds) as signed."""
    clock.now = clock.now.replace(microsecond=123456) - timedelta(days=100)
    live = LiveServer(tmp_path / "data", clock, database_url=pg_url)
    try:
        iam = live.client("iam")
        iam.create_user(UserName="pg-alice")
        iam.list_users()
        assert live.app.rt.trail.seal_digest() is not None
        iam.get_user(UserName="pg-alice")
        live.app.rt.trail.flush()
        args = ["--database-url", pg_url]
        checked = CliRunner().invoke(main, ["audit", "verify", *args])
        assert checked.exit_code == 0 and "1 event(s) not yet covered" in checked.output, checked.output
        pruned = CliRunner().invoke(main, ["audit", "prune", *args, "--data-dir", str(tmp_path / "data")])
        assert pruned.exit_code == 0 and "Pruned 2 event(s)" in pruned.output, pruned.output
        checked = CliRunner().invoke(main, ["audit", "verify", *args])
        assert checked.exit_code == 0 and "2 chain(s)" in checked.output, checked.output
    finally:
        live.stop()
