"""`rolehop backup` / `rolehop restore`: a snapshot of a live store restores into an empty store,
SQLite or PostgreSQL either way, and serves the same identities with the same access keys
(secrets stay sealed: the key ring travels beside the backup, not in it)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from rolehop.cli.main import main
from support import FakeClock, LiveServer, user_keys


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1, result.output
    return result.output


def header_of(backup: Path) -> dict[str, Any]:
    return dict(json.loads(backup.read_text().splitlines()[0]))


def rows_of(backup: Path) -> list[str]:
    return sorted(backup.read_text().splitlines()[1:])


def test_a_backup_restores_across_engines_and_serves_the_same_keys(
    tmp_path: Path, clock: FakeClock, pg_url: str
) -> None:
    node = tmp_path / "node"  # data directory: the SQLite store and the key ring
    source = LiveServer(node, clock)
    try:
        keys = user_keys(source.client("iam"), "alice")
        source.client("iam").create_group(GroupName="admins")
        source.client("iam").add_user_to_group(GroupName="admins", UserName="alice")
    finally:
        source.stop()
    first = tmp_path / "first.jsonl"
    run("backup", str(first), "--data-dir", str(node))
    assert keys["SecretAccessKey"] not in first.read_text()  # sealed, as stored

    run("restore", str(first), "--database-url", pg_url, "--data-dir", str(node))
    restored = LiveServer(node, clock, database_url=pg_url)  # the same key ring, on PostgreSQL
    try:
        assert restored.client_for("sts", keys).get_caller_identity()["Arn"].endswith(":user/alice")
        group = restored.client("iam").get_group(GroupName="admins")
        assert [u["UserName"] for u in group["Users"]] == ["alice"]
    finally:
        restored.stop()

    second = tmp_path / "second.jsonl"
    run("backup", str(second), "--database-url", pg_url)
    back = tmp_path / "back"
    run("restore", str(second), "--data-dir", str(back))  # and back to SQLite
    third = tmp_path / "third.jsonl"
    run("backup", str(third), "--data-dir", str(back))
    assert rows_of(second) == rows_of(third)  # PostgreSQL -> SQLite loses nothing
    before, after = header_of(first)["tables"], header_of(third)["tables"]
    # the restored server's own calls are in its audit trail; everything else is as it was
    assert {t: n for t, n in before.items() if not t.startswith("trail_")} == {
        t: n for t, n in after.items() if not t.startswith("trail_")
    }
    assert 0 < before["trail_events"] < after["trail_events"]


def test_restore_refuses_a_store_that_holds_anything(tmp_path: Path, clock: FakeClock) -> None:
    LiveServer(tmp_path / "a", clock).stop()
    LiveServer(tmp_path / "b", clock).stop()  # bootstrapped: the management account is there
    backup = tmp_path / "a.jsonl"
    run("backup", str(backup), "--data-dir", str(tmp_path / "a"))
    assert "not empty" in refused("restore", str(backup), "--data-dir", str(tmp_path / "b"))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: ["not json", *lines[1:]], "not a rolehop backup"),
        (lambda lines: [json.dumps({"format": "other"}), *lines[1:]], "not a rolehop backup"),
        (lambda lines: [*lines[:-1], lines[-1][:-5]], "damaged"),
        (lambda lines: lines[:-1], "incomplete"),
    ],
)
def test_a_damaged_backup_restores_nothing(tmp_path: Path, clock: FakeClock, damage, message: str) -> None:
    LiveServer(tmp_path / "a", clock).stop()
    good = tmp_path / "a.jsonl"
    run("backup", str(good), "--data-dir", str(tmp_path / "a"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(damage(good.read_text().splitlines())) + "\n")
    assert message in refused("restore", str(bad), "--data-dir", str(tmp_path / "b"))
    run("restore", str(good), "--data-dir", str(tmp_path / "b"))  # all or nothing: still empty


def test_backup_never_overwrites_a_file(tmp_path: Path, clock: FakeClock) -> None:
    LiveServer(tmp_path / "a", clock).stop()
    existing = tmp_path / "kept.jsonl"
    existing.write_text("earlier backup\n")
    assert "exists" in refused("backup", str(existing), "--data-dir", str(tmp_path / "a"))
    assert existing.read_text() == "earlier backup\n"


def test_a_backup_taken_under_writes_is_one_instant(tmp_path: Path, clock: FakeClock, pg_url: str) -> None:
    """Counts in the header and rows are read in one snapshot, so restore's completeness check
    holds even while another node writes."""
    node = LiveServer(tmp_path / "node", clock, database_url=pg_url)
    stop = threading.Event()

    def write() -> None:
        iam, n = node.client("iam"), 0
        while not stop.is_set():
            try:
                iam.create_user(UserName=f"u{n}")
                iam.tag_user(UserName=f"u{n}", Tags=[{"Key": "k", "Value": "v"}])
            except ClientError:
                pass
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for i in range(3):
            run("backup", str(tmp_path / f"b{i}.jsonl"), "--database-url", pg_url)
    finally:
        stop.set()
        writer.join()
        node.stop()
    for i in range(3):
        run("restore", str(tmp_path / f"b{i}.jsonl"), "--data-dir", str(tmp_path / f"r{i}"))
