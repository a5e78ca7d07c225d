"""Console tests: the access guide's organization on a live server, and one Chromium per module.

The browser is the system Chromium (/usr/bin/chromium) driven by Playwright. Without it the browser
tests skip on a developer's machine and fail under CI=true, where `make test` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from console_helpers import AK, CHROMIUM, CHROMIUM_ARGS, EXAMPLE, ConsoleClient, give_password

from rolehop.services.admin.apply import apply_spec, parse_spec
from support import FakeClock, LiveServer


@pytest.fixture
def org(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "data", clock, account_id=AK)
    apply_spec(live.app.rt, parse_spec(yaml.safe_load(EXAMPLE.read_text())))
    for user in ("alice", "bob"):
        give_password(live, user)
    yield live
    live.stop()


@pytest.fixture
def client(org: LiveServer) -> Iterator[ConsoleClient]:
    c = ConsoleClient(org)
    yield c
    c.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the whole module; each test opens its own context (cookies) in it."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as e:  # pragma: no cover - depends on the machine
        _unavailable(f"Playwright is not installed: {e}")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Error as e:  # pragma: no cover - depends on the machine
        manager.stop()
        _unavailable(f"Chromium does not start: {e}")
    yield chromium
    chromium.close()
    manager.stop()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the console's browser tests need Chromium under CI=true: {reason}")
    pytest.skip(reason)
