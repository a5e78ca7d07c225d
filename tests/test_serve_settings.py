"""What `rolehop serve` hands uvicorn and the app: uvicorn never reads proxy headers itself (by default
it would believe them from 127.0.0.1), keep-alive and connections are bounded, and the proxies and
body timeout named on the command line reach the app and every worker process."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from rolehop.app import WORKER_CONFIG_ENV, RolehopApp, worker_app
from rolehop.cli.main import main

FLAGS = ["--forwarded-allow-ips", "10.0.0.0/8,192.0.2.10", "--body-timeout", "7"]
PROXIES = (ip_network("10.0.0.0/8"), ip_network("192.0.2.10"))


@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """uvicorn.run, recorded instead of serving."""
    runs: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append((app, options)))
    monkeypatch.setenv(WORKER_CONFIG_ENV, "")  # serve sets it for its workers; restored afterwards
    return runs


def test_serve_hands_its_settings_to_uvicorn_and_the_app(
    tmp_path: Path, uvicorn_runs: list[tuple[Any, dict[str, Any]]]
) -> None:
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), *FLAGS])
    assert result.exit_code == 0, result.output
    [(app, options)] = uvicorn_runs
    assert isinstance(app, RolehopApp)
    app.rt.store.close()
    assert options["proxy_headers"] is False
    assert (options["timeout_keep_alive"], options["limit_concurrency"]) == (5, 1000)
    assert (app.config.forwarded_allow_ips, app.config.body_timeout) == (PROXIES, 7)


def test_every_worker_gets_the_same_settings(
    tmp_path: Path, uvicorn_runs: list[tuple[Any, dict[str, Any]]]
) -> None:
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), "--workers", "2", *FLAGS])
    assert result.exit_code == 0, result.output
    [(target, options)] = uvicorn_runs
    assert target == "rolehop.app:worker_app" and options["proxy_headers"] is False
    worker = worker_app()  # what each worker process builds, from the environment serve left it
    worker.rt.store.close()
    assert (worker.config.forwarded_allow_ips, worker.config.body_timeout) == (PROXIES, 7)


def test_metrics_and_the_log_format_reach_the_app_and_every_worker(
    tmp_path: Path, uvicorn_runs: list[tuple[Any, dict[str, Any]]]
) -> None:
    flags = ["--no-metrics", "--log-format", "text"]
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), *flags])
    assert result.exit_code == 0, result.output
    [(app, options)] = uvicorn_runs
    app.rt.store.close()
    assert (app.config.metrics, app.config.log_format, app.metrics) == (False, "text", None)
    assert options["log_config"] is None  # uvicorn's own logging setup would undo ours
    uvicorn_runs.clear()
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), "--workers", "2", *flags])
    assert result.exit_code == 0, result.output
    worker = worker_app()
    worker.rt.store.close()
    assert (worker.config.metrics, worker.config.log_format) == (False, "text")
