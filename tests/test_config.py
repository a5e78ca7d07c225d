"""Where a setting comes from: a flag, else its environment variable, else the default — decided in
rolehop.config.resolve and nowhere else."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from click.testing import CliRunner

from rolehop.cli.main import main
from rolehop.config import (
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    DEFAULT_DATA_DIR,
    MASTER_KEY_ENV,
    ROOT_KEY_ID_ENV,
    ROOT_SECRET_ENV,
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
    names = {DATABASE_URL_ENV, DATA_DIR_ENV, ROOT_KEY_ID_ENV, ROOT_SECRET_ENV, MASTER_KEY_ENV}
    for path in SRC.rglob("*.py"):
        if path.name == "config.py":
            continue
        strings = {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)}
        assert not names & strings, f"{path.relative_to(SRC)} names {names & strings}"
