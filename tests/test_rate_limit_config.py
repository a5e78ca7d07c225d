"""Request throttling's settings follow the one rule (flag > environment > default): off in dev mode,
on with generous defaults otherwise, and a value they cannot take stops the command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rolehop import app
from rolehop.cli.main import main
from rolehop.config import (
    DEFAULT_RATE_LIMIT,
    RATE_BURST_ENV,
    RATE_LIMIT_ENV,
    ConfigError,
    ServerConfig,
    resolve,
)


def test_throttling_is_on_by_default_and_off_in_dev_mode() -> None:
    assert resolve(environ={}).rate_limit == DEFAULT_RATE_LIMIT > 0
    assert resolve(dev=True, environ={"ROLEHOP_DATA_DIR": "/tmp"}).rate_limit == 0
    assert resolve(dev=True, rate_limit=5, environ={"ROLEHOP_DATA_DIR": "/tmp"}).rate_limit == 5


def test_a_flag_wins_over_the_environment_which_wins_over_the_default() -> None:
    env = {RATE_LIMIT_ENV: "7", RATE_BURST_ENV: "9"}
    flagged = resolve(rate_limit=3, rate_burst=4, environ=env)
    assert (flagged.rate_limit, flagged.rate_burst) == (3, 4)
    from_env = resolve(environ=env)
    assert (from_env.rate_limit, from_env.rate_burst) == (7, 9)
    assert resolve(environ={}).rate_burst is None  # twice the rate
    assert resolve(rate_limit=0, environ=env).rate_limit == 0  # a flag can turn it off


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        ({"rate_limit": -1}, {}),
        ({"rate_limit": float("inf")}, {}),
        ({}, {RATE_LIMIT_ENV: "fast"}),
        ({"rate_burst": 0.5}, {}),
        ({}, {RATE_BURST_ENV: "nan"}),
    ],
)
def test_a_rate_a_setting_cannot_take_is_refused(flags: dict[str, Any], env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        resolve(environ=env, **flags)


def test_serve_refuses_a_bad_rate_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), "--rate-limit", "-5"])
    assert result.exit_code == 2 and "rate-limit: -5.0 is not a number of requests" in result.output
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path)], env={RATE_BURST_ENV: "0"})
    assert result.exit_code == 2 and "rate-burst" in result.output
    assert not (tmp_path / "rolehop.db").exists()


def test_every_worker_gets_the_same_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve --workers N` hands its settings to each worker process through the environment."""
    built: list[ServerConfig] = []
    monkeypatch.setattr(app, "create_app", built.append)
    config = resolve(rate_limit=3, rate_burst=5, environ={})
    monkeypatch.setenv(app.WORKER_CONFIG_ENV, app.worker_config_json(config))
    app.worker_app()
    assert (built[0].rate_limit, built[0].rate_burst) == (3, 5)
