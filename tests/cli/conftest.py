"""Fixtures of the command line tests: a live server holding the Aster Key example (applied once,
copied for each test), alice and bob enrolled, a temporary HOME, the server's request counter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import AK, EXAMPLE, Calls, Person, enrolled

from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer


@pytest.fixture(scope="session")
def example_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("example") / "data"
    env = dict(os.environ, ROLEHOP_ROOT_ACCESS_KEY_ID=ROOT_KEY, ROLEHOP_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET)
    done = subprocess.run(
        [sys.executable, "-m", "rolehop", "apply", str(EXAMPLE), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return data


@pytest.fixture
def org(example_data: Path, tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    data = tmp_path / "data"
    shutil.copytree(example_data, data)
    live = LiveServer(data, clock, account_id=AK)
    yield live
    live.stop()


@pytest.fixture
def calls(org: LiveServer) -> Calls:
    counted = Calls()
    counted.wrap(org)
    return counted


@pytest.fixture
def alice(org: LiveServer, clock: FakeClock) -> Person:
    return enrolled(org, clock, "alice")


@pytest.fixture
def bob(org: LiveServer, clock: FakeClock) -> Person:
    return enrolled(org, clock, "bob")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME, for in-process commands and for the processes the tests start."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    for name in list(os.environ):
        if name.startswith(("AWS_", "ROLEHOP_")):
            monkeypatch.delenv(name)
    return path
