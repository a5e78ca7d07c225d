"""`--master-key-command CMD` / ROLEHOP_MASTER_KEY_COMMAND: the key ring is what a command prints (a
vault, a KMS), run without a shell and with a timeout; it wins over ROLEHOP_MASTER_KEY and the key
file, and its failures are one clear line that never shows what it printed."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result

from rolehop import config as settings
from rolehop.app import worker_config_json
from rolehop.cli.main import main
from rolehop.config import ConfigError, load_keyring, resolve
from rolehop.core.keyring import key_id_of, key_line
from test_migrate import free_port

KEY, SECRET = "AKIAROLEHOPKEYCMD001", "key-command-test-secret"


def printing(tmp_path: Path, output: str, status: int = 0, name: str = "vault.py") -> str:
    """A command that prints `output` and exits with `status`, as CMD would be typed."""
    script = tmp_path / name
    script.write_text(f"import sys\nsys.stdout.write({output!r})\nsys.exit({status})\n")
    return shlex.join([sys.executable, str(script)])


def ring_text(*key_ids: str) -> str:
    return "".join(key_line(k, secrets.token_bytes(32)) + "\n" for k in key_ids)


def rolehop(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def test_the_ring_a_command_prints_wins_over_the_variable_and_the_key_file(tmp_path: Path) -> None:
    command = printing(tmp_path, ring_text("vault1", "vault2"))
    environ = {"ROLEHOP_MASTER_KEY": ring_text("env1"), "ROLEHOP_MASTER_KEY_COMMAND": command}
    config = resolve(data_dir=tmp_path / "data", environ=environ)
    assert load_keyring(config).key_ids == ("vault1", "vault2")
    assert not (tmp_path / "data" / "keyring").exists()  # no key file is made beside it

    flag = printing(tmp_path, ring_text("flag1"), name="other.py")  # the flag wins over the variable
    assert load_keyring(resolve(data_dir=tmp_path, master_key_command=flag, environ=environ)).key_ids == (
        "flag1",
    )
    assert command not in repr(config.master_key) and "vault1" not in repr(config)


def test_serve_seals_with_the_commands_ring(tmp_path: Path) -> None:
    command = printing(tmp_path, ring_text("vault1"))
    data = tmp_path / "data"
    port = free_port()
    env = dict(os.environ, ROLEHOP_ROOT_ACCESS_KEY_ID=KEY, ROLEHOP_ROOT_SECRET_ACCESS_KEY=SECRET)
    cmd = [sys.executable, "-m", "rolehop", "serve", "--dev", "--port", str(port), "--data-dir", str(data)]
    server = subprocess.Popen([*cmd, "--master-key-command", command], env=env, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/_rolehop/health", timeout=1)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr
                time.sleep(0.2)
        sts = boto3.client(
            "sts",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        )
        assert sts.get_caller_identity()["Account"] == "123456789012"
    finally:
        server.terminate()
        server.wait(20)
    assert not (data / "keyring").exists()
    with closing(sqlite3.connect(data / "rolehop.db")) as db:
        (sealed,) = db.execute("SELECT sealed_secret FROM access_keys").fetchone()
    assert key_id_of(sealed) == "vault1"  # the root key's secret, sealed with the command's ring


def test_keys_commands_print_the_new_ring_and_write_nothing(tmp_path: Path) -> None:
    command = printing(tmp_path, ring_text("vault1"))
    listed = rolehop("keys", "list", "--data-dir", str(tmp_path), "--master-key-command", command)
    assert listed.output == "vault1  (seals)\n"
    added = rolehop("keys", "add", "--data-dir", str(tmp_path), "--master-key-command", command)
    assert added.exit_code == 0, added.output
    assert "--master-key-command holds the key ring: nothing written" in added.output
    assert '"id": "k1"' in added.output
    assert not (tmp_path / "keyring").exists()


@pytest.mark.parametrize(
    ("output", "status", "error"),
    [
        ("LEAKED-KEY-MATERIAL", 3, "{name} exited with status 3"),
        ("LEAKED-KEY-MATERIAL is no ring\n", 0, "what {name} printed is not a key ring"),
        ('{"id": "k1", "key": "LEAKED-KEY-MATERIAL"}\n', 0, "what {name} printed is not a key ring"),
        ("", 0, "what {name} printed is not a key ring"),
    ],
    ids=["fails", "prints-garbage", "prints-a-bad-key", "prints-nothing"],
)
def test_a_failing_command_is_one_line_without_its_output(
    tmp_path: Path, output: str, status: int, error: str
) -> None:
    command = printing(tmp_path, output, status)
    data = tmp_path / "data"
    for args in (["keys", "list"], ["serve", "--dev"], ["apply", "examples/aster-key.yaml"]):
        result = rolehop(*args, "--data-dir", str(data), "--master-key-command", command)
        assert result.exit_code == 1, result.output
        assert f"Error: master-key-command: {error.format(name=sys.executable)}" in result.output
        assert "LEAKED" not in result.output and "Traceback" not in result.output
    assert not (data / "rolehop.db").exists()  # the key ring comes first: the store was never opened


def test_a_command_that_cannot_run_or_hangs_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = rolehop(
        "keys", "list", "--data-dir", str(tmp_path), "--master-key-command", "/no/such/vault get"
    )
    assert missing.exit_code == 1
    assert (
        "Error: master-key-command: /no/such/vault could not be run (No such file or directory)"
        in missing.output
    )

    monkeypatch.setattr(settings, "MASTER_KEY_COMMAND_TIMEOUT", 0.5)
    hangs = shlex.join([sys.executable, "-c", "import time; time.sleep(30)"])
    started = time.monotonic()
    result = rolehop("keys", "list", "--data-dir", str(tmp_path), "--master-key-command", hangs)
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert "did not finish within 0.5 seconds" in result.output


def test_the_command_is_split_like_a_shell_would_but_never_run_by_one(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = (
        f"{shlex.quote(sys.executable)} -c 'import sys; sys.stdout.write(sys.argv[1])' '$(touch {marker})'"
    )
    with pytest.raises(ConfigError, match="not a key ring"):
        load_keyring(resolve(data_dir=tmp_path, master_key_command=command, environ={}))
    assert not marker.exists()  # no shell expanded $(…)
    with pytest.raises(ConfigError, match="master-key-command: No closing quotation"):
        resolve(master_key_command="vault 'read", environ={})


def test_every_worker_runs_the_same_command(tmp_path: Path) -> None:
    command = printing(tmp_path, ring_text("vault1"))
    config = resolve(data_dir=tmp_path, master_key_command=command, environ={})
    fields = json.loads(worker_config_json(config))
    assert resolve(master_key_command=fields["master_key_command"], environ={}).master_key_command == (
        config.master_key_command
    )
