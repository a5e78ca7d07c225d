"""Where a setting comes from: a flag, else its environment variable, else the default — decided in
rolehop.config.resolve and nowhere else."""

from __future__ import annotations

import ast
import shutil
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rolehop.cli.main import main
from rolehop.config import (
    BODY_TIMEOUT_ENV,
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    DEFAULT_DATA_DIR,
    FORWARDED_ALLOW_IPS_ENV,
    LOG_FORMAT_ENV,
    MASTER_KEY_ENV,
    METRICS_ENV,
    ROOT_KEY_ID_ENV,
    ROOT_SECRET_ENV,
    ConfigError,
    load_keyring,
    resolve,
)
from rolehop.core.keyring import key_line

SRC = Path(__file__).parent.parent / "src" / "rolehop"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/rolehop"


def test_a_flag_wins_over_its_environment_variable(tmp_path: Path) -> None:
    env = {DATABASE_URL_ENV: PG, DATA_DIR_ENV: str(tmp_path / "from-env")}
    config = resolve(database_url="sqlite:///flag.db", data_dir=tmp_path / "from-flag", environ=env)
    assert (config.database_url, config.data_dir) == ("sqlite:///flag.db", tmp_path / "from-flag")
    assert config.store_url == "sqlite:///flag.db"


def test_the_environment_wins_over_the_default(tmp_path: Path) -> None:
    config = resolve(environ={DATABASE_URL_ENV: PG, DATA_DIR_ENV: str(tmp_path)})
    assert (config.store_url, config.data_dir) == (PG, tmp_path)


def test_defaults_apply_when_neither_is_given(tmp_path: Path) -> None:
    config = resolve(environ={})
    assert config.data_dir == DEFAULT_DATA_DIR
    assert config.store_url == f"sqlite:///{DEFAULT_DATA_DIR / 'rolehop.db'}"
    assert (config.root_access_key_id, bool(config.root_secret), bool(config.master_key)) == (
        None,
        False,
        False,
    )


def test_proxies_and_the_body_timeout_follow_the_same_rule() -> None:
    env = {FORWARDED_ALLOW_IPS_ENV: "10.0.0.0/8", BODY_TIMEOUT_ENV: "12.5"}
    flagged = resolve(forwarded_allow_ips="192.0.2.10, 2001:db8::/32", body_timeout=3, environ=env)
    assert flagged.forwarded_allow_ips == (ip_network("192.0.2.10"), ip_network("2001:db8::/32"))
    assert flagged.body_timeout == 3
    from_env = resolve(environ=env)
    assert (from_env.forwarded_allow_ips, from_env.body_timeout) == ((ip_network("10.0.0.0/8"),), 12.5)
    # no proxy is believed unless named; an empty flag names none, whatever the environment says
    assert resolve(environ={}).forwarded_allow_ips == () and resolve(environ={}).body_timeout == 30
    assert resolve(forwarded_allow_ips="", environ=env).forwarded_allow_ips == ()
    assert resolve(environ={FORWARDED_ALLOW_IPS_ENV: "", BODY_TIMEOUT_ENV: ""}).body_timeout == 30


def test_metrics_and_the_log_format_follow_the_same_rule() -> None:
    env = {METRICS_ENV: "off", LOG_FORMAT_ENV: "text"}
    assert resolve(metrics=True, log_format="json", environ=env).metrics is True
    assert resolve(metrics=True, log_format="json", environ=env).log_format == "json"
    assert (resolve(environ=env).metrics, resolve(environ=env, terminal=False).log_format) == (False, "text")
    # by default metrics are on, and lines are JSON unless a person is reading them at a terminal
    assert resolve(environ={}).metrics is True
    assert resolve(environ={}, terminal=False).log_format == "json"
    assert resolve(environ={}, terminal=True).log_format == "text"
    assert resolve(environ={METRICS_ENV: "", LOG_FORMAT_ENV: ""}, terminal=False).log_format == "json"


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        ({}, {METRICS_ENV: "sometimes"}),
        ({"log_format": "xml"}, {}),
        ({}, {LOG_FORMAT_ENV: "JSON "}),
        ({"forwarded_allow_ips": "10.0.0.1/8"}, {}),  # host bits set: a typo, not a network
        ({"forwarded_allow_ips": "*"}, {}),
        ({}, {FORWARDED_ALLOW_IPS_ENV: "proxy.example.com"}),
        ({"body_timeout": 0}, {}),
        ({"body_timeout": float("nan")}, {}),
        ({}, {BODY_TIMEOUT_ENV: "30s"}),
        ({}, {BODY_TIMEOUT_ENV: "-1"}),
    ],
)
def test_a_value_a_setting_cannot_take_is_refused(flags: dict[str, Any], env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        resolve(environ=env, **flags)


def test_serve_refuses_a_bad_setting_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp_path), "--forwarded-allow-ips", "10.0.0.1/8"]
    )
    assert result.exit_code == 2 and "'10.0.0.1/8' is not an IP address or CIDR block" in result.output
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path)], env={BODY_TIMEOUT_ENV: "0"})
    assert result.exit_code == 2 and "body-timeout" in result.output
    assert not (tmp_path / "rolehop.db").exists()


def test_empty_variables_count_as_unset() -> None:
    config = resolve(environ={DATABASE_URL_ENV: "", DATA_DIR_ENV: "", ROOT_KEY_ID_ENV: ""})
    assert (config.database_url, config.data_dir, config.root_access_key_id) == (None, DEFAULT_DATA_DIR, None)


def test_a_dev_server_without_a_data_dir_starts_in_a_fresh_directory(tmp_path: Path) -> None:
    first, second = resolve(dev=True, environ={}), resolve(dev=True, environ={})
    assert first.data_dir != second.data_dir and first.data_dir.is_dir() and not any(first.data_dir.iterdir())
    shutil.rmtree(first.data_dir)
    shutil.rmtree(second.data_dir)
    assert resolve(dev=True, environ={DATA_DIR_ENV: str(tmp_path)}).data_dir == tmp_path


def test_secrets_come_from_the_environment_only_and_never_print(tmp_path: Path) -> None:
    master = key_line("k9", bytes(range(32)))
    env = {ROOT_KEY_ID_ENV: "AKIAEXAMPLEROOTKEY01", ROOT_SECRET_ENV: "s3cret-value", MASTER_KEY_ENV: master}
    config = resolve(data_dir=tmp_path, environ=env)
    assert config.root_access_key_id == "AKIAEXAMPLEROOTKEY01"
    assert config.root_secret.reveal() == "s3cret-value"
    assert "s3cret-value" not in repr(config) and master not in repr(config)
    assert load_keyring(config).active_key_id == "k9"
    assert not (tmp_path / "keyring").exists()  # the environment's key ring, not a new key file


def test_commands_take_the_store_flags_without_reading_the_environment_themselves(tmp_path: Path) -> None:
    """`rolehop explain` on an empty store named by the flag, with the environment naming another:
    the flag's directory is the one opened."""
    flag_dir, env_dir = tmp_path / "flag", tmp_path / "env"
    result = CliRunner().invoke(
        main, ["explain", "no-such-request", "--data-dir", str(flag_dir)], env={DATA_DIR_ENV: str(env_dir)}
    )
    assert result.exit_code == 1 and "no AccessDenied was recorded" in result.output
    assert (flag_dir / "rolehop.db").exists() and not env_dir.exists()
    CliRunner().invoke(main, ["explain", "no-such-request"], env={DATA_DIR_ENV: str(env_dir)})
    assert (env_dir / "rolehop.db").exists()


def test_only_config_reads_the_servers_environment_variables() -> None:
    names = {
        DATABASE_URL_ENV,
        DATA_DIR_ENV,
        FORWARDED_ALLOW_IPS_ENV,
        BODY_TIMEOUT_ENV,
        METRICS_ENV,
        LOG_FORMAT_ENV,
        ROOT_KEY_ID_ENV,
        ROOT_SECRET_ENV,
        MASTER_KEY_ENV,
    }
    for path in SRC.rglob("*.py"):
        if path.name == "config.py":
            continue
        strings = {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)}
        assert not names & strings, f"{path.relative_to(SRC)} names {names & strings}"
