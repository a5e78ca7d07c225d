from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg import fresh_database
from support import FakeClock, LiveServer


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One clock for server and client: botocore signs at the time the server believes it is."""
    fake = FakeClock()
    import botocore.auth

    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: fake.now.replace(tzinfo=None)
    )
    return fake


@pytest.fixture
def server(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "data", clock)
    yield live
    live.stop()


@pytest.fixture
def iam(server: LiveServer):
    return server.client("iam")


@pytest.fixture
def sts(server: LiveServer):
    return server.client("sts")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new PostgreSQL database for this test (dropped after it)."""
    with fresh_database() as url:
        yield url
