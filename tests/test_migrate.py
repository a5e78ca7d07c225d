"""Upgrades: `rolehop migrate` moves a store's schema (and `--check`s it); a PostgreSQL node refuses a
schema other than its own unless started with `serve --migrate`, with a message saying what to run;
SQLite stores keep upgrading themselves; the other store commands decide as docs/deployment.md says."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from rolehop.cli.main import main
from rolehop.store.revisions import head_revision, known_revisions, revision_of

OLDER = "0007"  # a revision every later rolehop still knows
EXAMPLE = Path(__file__).parent.parent / "examples" / "aster-key.yaml"


def rolehop(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> str:
    result = rolehop(*args)
    assert result.exit_code == 0, result.output
    return result.output


def stamp(url: str, revision: str) -> None:
    """Pretends a later rolehop migrated the store (only the version row changes)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, pg_url: str, *flags: str) -> Iterator[subprocess.Popen[bytes]]:
    """`rolehop serve` as a process on PostgreSQL, stopped afterwards whatever happened."""
    port = free_port()
    cmd = [sys.executable, "-m", "rolehop", "serve", "--port", str(port), "--database-url", pg_url]
    cmd += ["--data-dir", str(tmp_path / "node"), *flags]
    server = subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    server.port = port  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.terminate()
        server.wait(20)


def healthy(server: subprocess.Popen[bytes]) -> bool:
    """Waits until the server answers (True) or exits (False)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{server.port}/_rolehop/health"  # type: ignore[attr-defined]
            return bool(urllib.request.urlopen(url, timeout=1).status == 200)
        except OSError:
            if server.poll() is not None:
                return False
            time.sleep(0.2)
    raise AssertionError("the server neither answered nor exited")


def test_serve_refuses_an_older_postgresql_schema_until_told_to_migrate(tmp_path: Path, pg_url: str) -> None:
    ok("migrate", "--to", OLDER, "--database-url", pg_url)

    with serving(tmp_path, pg_url) as refused:
        assert not healthy(refused)
        assert refused.returncode != 0
        message = refused.stderr.read().decode() if refused.stderr else ""
    assert f"the store's schema is at {OLDER}, older than this rolehop's {head_revision()}" in message
    assert "rolehop migrate" in message and "serve --migrate" in message
    assert "Traceback" not in message
    assert revision_of(pg_url) == OLDER  # it changed nothing

    with serving(tmp_path, pg_url, "--migrate") as upgrading:
        assert healthy(upgrading)
    assert revision_of(pg_url) == head_revision()


def test_serve_refuses_a_schema_newer_than_it_knows_on_either_engine(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'rolehop.db'}"
    for url in (pg_url, sqlite_url):
        ok("migrate", "--database-url", url, "--data-dir", str(tmp_path))
        stamp(url, "9999")
        result = rolehop("serve", "--database-url", url, "--data-dir", str(tmp_path), "--migrate")
        assert result.exit_code == 1, result.output
        assert "the store's schema is at 9999, newer than this rolehop knows" in result.output
        assert revision_of(url) == "9999"


def test_migrate_moves_the_schema_and_check_says_whether_it_is_current(pg_url: str) -> None:
    check = rolehop("migrate", "--check", "--database-url", pg_url)
    assert check.exit_code == 1
    assert "the store has no schema yet" in check.output

    assert f"from nothing to {OLDER}" in ok("migrate", "--to", OLDER, "--database-url", pg_url)
    check = rolehop("migrate", "--check", "--database-url", pg_url)
    assert check.exit_code == 1
    assert f"at {OLDER}, older than" in check.output
    assert ok("migrate", "--check", "--to", OLDER, "--database-url", pg_url)

    assert f"from {OLDER} to {head_revision()}" in ok("migrate", "--database-url", pg_url)
    assert "current" in ok("migrate", "--check", "--database-url", pg_url)
    assert f"already at {head_revision()}" in ok("migrate", "--database-url", pg_url)

    # back again, as a rollback to an older rolehop needs
    assert f"from {head_revision()} to {OLDER}" in ok("migrate", "--to", OLDER, "--database-url", pg_url)
    assert revision_of(pg_url) == OLDER


def test_migrations_started_at_once_take_turns(pg_url: str) -> None:
    """Several nodes upgraded together (`serve --migrate` on each, or two pipelines): one migrates,
    the others wait and find it done, instead of failing on tables that now exist."""
    cmd = [sys.executable, "-m", "rolehop", "migrate", "--database-url", pg_url]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert sum("Migrated the store's schema from nothing" in out for out in outputs) == 1, outputs
    assert revision_of(pg_url) == head_revision()


def test_migrate_refuses_a_revision_it_does_not_know_and_changes_nothing(pg_url: str) -> None:
    ok("migrate", "--to", OLDER, "--database-url", pg_url)
    result = rolehop("migrate", "--to", "0042", "--database-url", pg_url)
    assert result.exit_code == 1
    assert "0042 is not a schema revision this rolehop knows" in result.output
    assert ", ".join(known_revisions()) in result.output
    assert revision_of(pg_url) == OLDER


def test_migrate_reports_an_unreachable_database_without_its_password() -> None:
    url = f"postgresql+psycopg://rolehop:hunter2-secret@127.0.0.1:{free_port()}/nowhere"
    result = rolehop("migrate", "--database-url", url)
    assert result.exit_code == 1
    assert "cannot reach the store at postgresql+psycopg://rolehop:***@127.0.0.1" in result.output
    assert "hunter2" not in result.output


def test_apply_creates_an_empty_postgresql_stores_schema_but_leaves_upgrades_to_migrate(
    tmp_path: Path, pg_url: str
) -> None:
    fresh = ["--database-url", pg_url, "--data-dir", str(tmp_path)]
    assert "Applied" in ok("apply", str(EXAMPLE), *fresh)
    assert revision_of(pg_url) == head_revision()

    ok("migrate", "--to", OLDER, "--database-url", pg_url)
    result = rolehop("apply", str(EXAMPLE), *fresh)
    assert result.exit_code == 1
    assert f"at {OLDER}, older than this rolehop's" in result.output
    assert revision_of(pg_url) == OLDER


@pytest.mark.parametrize(
    "command",
    [["explain", "no-such-request"], ["mfa", "reset", "alice"], ["keys", "reseal"]],
    ids=["explain", "mfa reset", "keys reseal"],
)
def test_store_commands_refuse_an_older_postgresql_schema(
    tmp_path: Path, pg_url: str, command: list[str]
) -> None:
    ok("migrate", "--to", OLDER, "--database-url", pg_url)
    result = rolehop(*command, "--database-url", pg_url, "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert (
        f"Error: the store's schema is at {OLDER}, older than this rolehop's {head_revision()}"
        in result.output
    )
    assert revision_of(pg_url) == OLDER


def test_a_sqlite_store_upgrades_itself_when_opened(tmp_path: Path) -> None:
    ok("migrate", "--to", OLDER, "--data-dir", str(tmp_path))
    result = rolehop("explain", "no-such-request", "--data-dir", str(tmp_path))
    assert "no AccessDenied was recorded" in result.output
    assert revision_of(f"sqlite:///{tmp_path / 'rolehop.db'}") == head_revision()
