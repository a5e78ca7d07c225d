"""`rolehop keys`: the key ring rotates under live sessions on two nodes sharing a store and a key
source — add, a rolling restart, promote, another, reseal, retire — and nobody is logged out
before the key that sealed their session leaves the ring."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from rolehop.cli.main import main
from rolehop.core.keyring import key_line, keyring_from_text
from support import FakeClock, LiveServer, user_keys


def keys(*args: str) -> str:
    result = CliRunner().invoke(main, ["keys", *args])
    assert result.exit_code == 0, result.output
    return result.output


def works(node: LiveServer, creds: dict[str, str]) -> bool:
    try:
        node.client_for("sts", creds).get_caller_identity()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidClientTokenId"
        return False
    return True


def test_a_rotation_across_two_nodes_logs_nobody_out(tmp_path: Path, clock: FakeClock, pg_url: str) -> None:
    shared = tmp_path / "shared"  # the key source both nodes read
    store = ["--data-dir", str(shared), "--database-url", pg_url]

    def node() -> LiveServer:
        return LiveServer(shared, clock, database_url=pg_url)

    a, b = node(), node()
    alice = user_keys(a.client("iam"), "alice")
    first = a.client_for("sts", alice).get_session_token()["Credentials"]  # sealed with k1
    a.app.rt.trail.flush()
    a.app.rt.trail.seal_digest()  # the audit trail's signing key is sealed with k1 too

    assert "Added k2; k1 still seals" in keys("add", *store)
    a.stop()
    a = node()  # rolling restart: a opens k2, b does not know it yet; k1 still seals everywhere
    second = a.client_for("sts", alice).get_session_token()["Credentials"]
    assert works(b, first) and works(b, second) and works(a, first)
    b.stop()
    b = node()

    assert "k2 seals from now on" in keys("promote", "k2", *store)
    a.stop()
    a = node()
    third = a.client_for("sts", alice).get_session_token()["Credentials"]  # sealed with k2
    assert works(b, third) and works(a, first) and works(b, first)  # b opens k2; k1 still opens
    b.stop()
    b = node()

    refused = CliRunner().invoke(main, ["keys", "retire", "k1", *store])
    assert refused.exit_code == 1 and "keys reseal" in refused.output  # alice's secret needs k1
    assert "Re-sealed" in keys("reseal", *store)
    assert "Retired k1" in keys("retire", "k1", *store)
    assert keys("list", *store).split() == ["k2", "(seals)"]
    a.stop()
    b.stop()
    a, b = node(), node()
    try:
        assert works(a, alice) and works(b, alice)  # the long-term secret was re-sealed with k2
        assert works(b, third)
        assert not works(a, first)  # a session sealed by a retired key ends, as documented
        a.app.rt.trail.flush()
        a.app.rt.trail.seal_digest()
        with a.app.rt.store.transaction() as tx:  # re-sealed too: the pinned public key still verifies
            assert len(tx.signing_keys()) == 1
    finally:
        a.stop()
        b.stop()


def test_with_the_ring_in_the_environment_nothing_is_written(tmp_path: Path) -> None:
    ring = key_line("k1", bytes(32), seals=True) + "\n"
    result = CliRunner().invoke(
        main, ["keys", "rotate", "--data-dir", str(tmp_path)], env={"ROLEHOP_MASTER_KEY": ring}
    )
    assert result.exit_code == 0 and "nothing written" in result.stderr
    rotated = keyring_from_text(result.stdout)
    assert (rotated.key_ids, rotated.active_key_id) == (("k1", "k2"), "k2")
    assert not (tmp_path / "keyring").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["promote", "k7"], "not in the ring"), (["retire", "k1"], "promote another key first")],
)
def test_mistakes_change_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    keys("list", "--data-dir", str(tmp_path))  # creates the key file with k1
    before = (tmp_path / "keyring").read_text()
    result = CliRunner().invoke(main, ["keys", *args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and message in result.output
    assert (tmp_path / "keyring").read_text() == before
    assert before.strip() not in result.output  # key material never printed
