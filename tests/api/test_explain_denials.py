"""Why was I denied? `rolehop explain REQUEST-ID`, and the opt-in encoded authorization message."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support import FakeClock, LiveServer

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
