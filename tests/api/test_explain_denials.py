"""Why was I denied? `rolehop explain REQUEST-ID`, read from the audit trail, and the opt-in encoded
authorization message."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from rolehop.services.pipeline.denial_log import LOG_BURST, LOG_WINDOW
from rolehop.services.pipeline.denials import AGGREGATE_WINDOW
from rolehop.services.pipeline.denials import explain as explain_denial
from support import FakeClock, LiveServer, user_keys

DENY_GROUPS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoGroups", "Effect": "Deny", "Action": "iam:CreateGroup", "Resource": "*"}],
    }
)


def refused(call) -> ClientError:
    with pytest.raises(ClientError) as exc:
        call()
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    return exc.value


def explain(server: LiveServer, request_id: str) -> subprocess.CompletedProcess[str]:
    """`rolehop explain` in a process of its own, once the server's batched records are written."""
    server.app.rt.trail.flush()
    return subprocess.run(
        [sys.executable, "-m", "rolehop", "explain", request_id, "--data-dir", str(server.config.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_explain_names_the_missing_layer_and_the_deciding_statement(server: LiveServer, iam) -> None:
    iam.create_user(UserName="dora")
    keys = iam.create_access_key(UserName="dora")["AccessKey"]
    dora = server.client_for("iam", keys)
    error = refused(dora.list_users)
    result = explain(server, error.response["ResponseMetadata"]["RequestId"])
    assert result.returncode == 0, result.stderr
    assert "ImplicitlyDenied" in result.stdout and "iam:ListUsers" in result.stdout
    assert "no Allow in: identity-based policies" in result.stdout
    iam.attach_user_policy(UserName="dora", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_user_policy(UserName="dora", PolicyName="no-groups", PolicyDocument=DENY_GROUPS)
    error = refused(lambda: dora.create_group(GroupName="g"))
    result = explain(server, error.response["ResponseMetadata"]["RequestId"])
    assert "ExplicitlyDenied" in result.stdout and "(Sid NoGroups)" in result.stdout
    assert "aws:username = dora" in result.stdout
    assert "Encoded authorization failure message" not in error.response["Error"]["Message"]  # off by default


def test_unknown_request_id(server: LiveServer) -> None:
    result = explain(server, "no-such-request")
    assert result.returncode != 0 and "no AccessDenied was recorded" in result.stderr


@pytest.fixture
def encoding_server(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "data", clock, encode_denials=True)
    yield live
    live.stop()


def test_encoded_message_decodes_with_permission(encoding_server: LiveServer) -> None:
    iam = encoding_server.client("iam")
    iam.create_user(UserName="eve")
    keys = iam.create_access_key(UserName="eve")["AccessKey"]
    message = refused(encoding_server.client_for("iam", keys).list_users).response["Error"]["Message"]
    encoded = message.split("Encoded authorization failure message: ", 1)[1]
    with pytest.raises(ClientError) as exc:  # decoding needs sts:DecodeAuthorizationMessage
        encoding_server.client_for("sts", keys).decode_authorization_message(EncodedMessage=encoded)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    decoded = json.loads(
        encoding_server.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"]
    )
    assert decoded["allowed"] is False and decoded["context"]["action"] == "iam:ListUsers"
    assert decoded["context"]["principal"]["arn"].endswith(":user/eve")
    with pytest.raises(ClientError) as exc:
        encoding_server.client("sts").decode_authorization_message(EncodedMessage=encoded[:-4] + "AAAA")
    assert exc.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException"


# Finding 7 (issue 15): one key repeating a denied call wrote a row and a log line per request.
# Since issue 14 every call has its trail event; what a repeat must not add is its explanation.


def explanations(server: LiveServer) -> dict[str, str]:
    """The explanation column of every trail event of the server's SQLite store, by request ID."""
    server.app.rt.trail.flush()
    conn = sqlite3.connect(server.config.data_dir / "rolehop.db")
    try:
        rows = conn.execute("SELECT request_id, explanation FROM trail_events WHERE explanation IS NOT NULL")
        return {str(rid): str(text) for rid, text in rows}
    finally:
        conn.close()


def request_id(error: ClientError) -> str:
    return str(error.response["ResponseMetadata"]["RequestId"])


def test_identical_denials_keep_one_explanation_and_every_request_id_resolves(
    server: LiveServer, iam
) -> None:
    dora = server.client_for("iam", user_keys(iam, "dora"))
    repeats = 30
    ids = [request_id(refused(dora.list_users)) for _ in range(repeats)]
    other = request_id(refused(dora.list_roles))  # another action: a denial of its own
    kept = explanations(server)
    assert set(ids) | {other} <= set(kept)  # each denial's event says why (or where to look)
    assert json.loads(kept[ids[0]])["explanation"]["context"]["action"] == "iam:ListUsers"
    assert json.loads(kept[other])["explanation"]["context"]["action"] == "iam:ListRoles"
    for rid in ids[1:]:  # a repeat keeps a reference to the first, not a copy: bounded bytes
        assert json.loads(kept[rid]) == {
            "fingerprint": json.loads(kept[ids[0]])["fingerprint"],
            "firstRequestId": ids[0],
        }
        assert len(kept[rid]) < 160 < len(kept[ids[0]])
    first = explain_denial(server.app.rt, ids[0])
    assert first is not None and first["requestId"] == ids[0]
    assert first["repeats"]["count"] == repeats and first["repeats"]["lastRequestId"] == ids[-1]
    for rid in (ids[1], ids[repeats // 2], ids[-1]):  # every repeat resolves, under its own ID
        found = explain_denial(server.app.rt, rid)
        assert found is not None and found["requestId"] == rid
        assert found["context"]["action"] == "iam:ListUsers" and found["repeats"]["firstRequestId"] == ids[0]
        assert found["repeats"]["count"] == repeats
    alone = explain_denial(server.app.rt, other)
    assert alone is not None and alone["context"]["action"] == "iam:ListRoles"
    assert alone["repeats"]["count"] == 1
    result = explain(server, ids[-1])
    assert result.returncode == 0, result.stderr
    assert f"denied {repeats} times" in result.stdout and ids[0] in result.stdout
    # the explanation is the operator's: the account's event history shows the record alone
    with server.app.rt.store.transaction() as tx:
        stored = tx.event_by_request(ids[0])
    assert stored is not None and stored.event.error_code == "AccessDenied"
    assert "matchedStatements" not in stored.event.record and "fingerprint" not in stored.event.record


def test_a_repeat_after_the_window_opens_a_new_aggregate(server: LiveServer, iam, clock: FakeClock) -> None:
    dora = server.client_for("iam", user_keys(iam, "dora"))
    old = request_id(refused(dora.list_users))
    clock.advance(AGGREGATE_WINDOW.total_seconds() + 1)
    later = request_id(refused(dora.list_users))
    found = explain_denial(server.app.rt, later)
    assert found is not None and found["repeats"]["count"] == 1 and found["requestId"] == later
    first = explain_denial(server.app.rt, old)
    assert first is not None and first["repeats"]["count"] == 1
    assert json.loads(explanations(server)[later])["explanation"]["requestId"] == later


def test_a_denied_change_is_explained_from_its_own_transaction(server: LiveServer, iam) -> None:
    """A refused write's event is appended in the call's transaction (not batched): `explain` in
    another process finds it without a flush of the server's trail."""
    dora = server.client_for("iam", user_keys(iam, "dora"))
    rid = request_id(refused(lambda: dora.create_group(GroupName="g")))
    result = subprocess.run(
        [sys.executable, "-m", "rolehop", "explain", rid, "--data-dir", str(server.config.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "iam:CreateGroup" in result.stdout and "no Allow in: identity-based policies" in result.stdout


def test_no_explanation_is_kept_with_the_trail_off(server: LiveServer, iam) -> None:
    """The explanations are part of the trail: with it off (`serve --no-audit-trail`) none is kept,
    and the denial is still answered."""
    dora = server.client_for("iam", user_keys(iam, "dora"))
    server.app.rt.trail.enabled = False  # what Settings.audit_trail=False gives the runtime's trail
    rid = request_id(refused(dora.list_users))
    assert explain_denial(server.app.rt, rid) is None
    assert rid not in explanations(server)


def denial_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rolehop.denials"]


def test_denial_log_lines_are_limited_per_principal_and_summarized(
    server: LiveServer, iam, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rolehop.denials")
    dora = server.client_for("iam", user_keys(iam, "dora"))
    eve = server.client_for("iam", user_keys(iam, "eve"))
    for _ in range(LOG_BURST + 20):
        refused(dora.list_users)
    refused(eve.list_users)  # someone else's denial is still logged during dora's flood
    lines = denial_lines(caplog)
    assert sum(":user/dora" in line for line in lines) <= LOG_BURST + 1  # the burst, and a notice
    assert sum(line.startswith("AccessDenied ") and ":user/eve" in line for line in lines) == 1
    caplog.clear()
    clock.advance(LOG_WINDOW.total_seconds() + 1)
    refused(dora.list_users)
    summary, line = denial_lines(caplog)
    assert "20 more AccessDenied" in summary and ":user/dora" in summary and "iam:ListUsers" in summary
    assert line.startswith("AccessDenied ") and ":user/dora" in line
    caplog.clear()
    for _ in range(LOG_BURST + 4):  # with the line above, 5 past the burst
        refused(dora.list_users)
    server.stop()  # what was held back is summarized when the server stops
    assert any("5 more AccessDenied" in line for line in denial_lines(caplog))


def test_each_repeated_denial_carries_its_own_encoded_message(encoding_server: LiveServer) -> None:
    iam = encoding_server.client("iam")
    eve = encoding_server.client_for("iam", user_keys(iam, "eve"))
    sts = encoding_server.client("sts")
    for error in (refused(eve.list_users), refused(eve.list_users)):  # one aggregate in the store
        encoded = error.response["Error"]["Message"].split("Encoded authorization failure message: ", 1)[1]
        decoded = json.loads(sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
        assert decoded["requestId"] == request_id(error)
