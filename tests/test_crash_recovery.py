"""A node killed with SIGKILL under write load loses no acknowledged write: clients record every
CreateUser and TagUser answered 200, `rolehop serve` is killed mid-load, started again on the same
store, and every acknowledged write is there; on SQLite (WAL) and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

KEY, SECRET = "AKIAROLEHOPCRASHES01", "crash-test-secret"
WRITERS = 4
ACKED_BEFORE_KILL = 60  # writes acknowledged before the kill, so that it lands mid-load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(data_dir: Path, database_url: str | None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`rolehop serve` on the store, once it answers its health check; the process and its URL."""
    port = free_port()
    env = dict(os.environ, ROLEHOP_ROOT_ACCESS_KEY_ID=KEY, ROLEHOP_ROOT_SECRET_ACCESS_KEY=SECRET)
    cmd = [sys.executable, "-m", "rolehop", "serve", "--dev", "--migrate", "--port", str(port)]
    cmd += ["--data-dir", str(data_dir), "--log-format", "text"]
    if database_url:
        cmd += ["--database-url", database_url]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if urllib.request.urlopen(url + "/_rolehop/health", timeout=1).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    raise AssertionError(server.communicate()[1].decode()) from None
                time.sleep(0.1)
        yield server, url
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(20)
        if server.stderr:
            server.stderr.close()


def client(url: str) -> Any:
    return boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


class Writers:
    """Threads creating and tagging users until the server goes away; they note what was acknowledged."""

    def __init__(self, url: str) -> None:
        self.users: list[str] = []
        self.tags: list[tuple[str, str]] = []  # (user, value of its tag "n")
        self._lock = threading.Lock()
        # the clients are made here, one by one: boto3's default session is not thread-safe
        clients = [client(url) for _ in range(WRITERS)]
        self.threads = [threading.Thread(target=self._write, args=(i, c)) for i, c in enumerate(clients)]
        for t in self.threads:
            t.start()

    def acknowledged(self) -> int:
        with self._lock:
            return len(self.users) + len(self.tags)

    def join(self) -> None:
        for t in self.threads:
            t.join(30)

    def _write(self, writer: int, iam: Any) -> None:
        try:
            for n in range(100_000):
                name = f"w{writer}-{n}"
                iam.create_user(UserName=name)
                with self._lock:
                    self.users.append(name)
                iam.tag_user(UserName=name, Tags=[{"Key": "n", "Value": str(n)}])
                with self._lock:
                    self.tags.append((name, str(n)))
        except Exception:  # the server was killed: whatever was not answered was not acknowledged
            return


def test_sigkill_under_write_load_loses_no_acknowledged_write_on_sqlite(tmp_path: Path) -> None:
    killed_under_load_then_restarted(tmp_path / "data", None)


def test_sigkill_under_write_load_loses_no_acknowledged_write_on_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    killed_under_load_then_restarted(tmp_path / "data", pg_url)


def killed_under_load_then_restarted(data_dir: Path, database_url: str | None) -> None:
    with serving(data_dir, database_url) as (server, url):
        writers = Writers(url)
        deadline = time.monotonic() + 15
        while writers.acknowledged() < ACKED_BEFORE_KILL:
            assert time.monotonic() < deadline, "the writers made no progress"
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)  # mid-load: requests in flight are never answered
        assert server.wait(10) == -signal.SIGKILL
        writers.join()
    assert writers.users and writers.tags
    with serving(data_dir, database_url) as (_server, url):
        iam = client(url)
        stored = {u["UserName"] for page in iam.get_paginator("list_users").paginate() for u in page["Users"]}
        assert set(writers.users) <= stored
        for user, value in writers.tags:
            assert {"Key": "n", "Value": value} in iam.list_user_tags(UserName=user)["Tags"], user
