"""STS basics and request authentication, with real signed requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from support import ROOT_KEY, ROOT_SECRET

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def send(server, req: AWSRequest, body: bytes | None = None) -> tuple[int, str]:
    data = body if body is not None else (req.body or None)
    http = urllib.request.Request(req.url, data=data, headers=dict(req.headers), method=req.method)
    try:
        with urllib.request.urlopen(http) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def signed(
    server,
    body: bytes,
    *,
    key: str = ROOT_KEY,
    secret: str = ROOT_SECRET,
    service: str = "sts",
    token: str | None = None,
) -> AWSRequest:
    req = AWSRequest("POST", server.url + "/", data=body, headers=dict(FORM))
    SigV4Auth(Credentials(key, secret, token), service, "us-east-1").add_auth(req)
    return req


def test_root_caller_identity(sts, server) -> None:
    ident = sts.get_caller_identity()
    assert ident["Account"] == server.account_id
    assert ident["Arn"] == f"arn:aws:iam::{server.account_id}:root"
    assert ident["UserId"] == server.account_id


def test_user_session_token_and_caller_identity(iam, server, clock) -> None:
    user = iam.create_user(UserName="alice")["User"]
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    creds = server.client_for("sts", key).get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session = server.client_for("sts", creds)
    ident = session.get_caller_identity()
    assert ident["Arn"] == user["Arn"] and ident["UserId"] == user["UserId"]
    with pytest.raises(ClientError) as exc:
        session.get_session_token()
    assert code(exc) == "AccessDenied"
    clock.advance(901)
    with pytest.raises(ClientError) as exc:
        session.get_caller_identity()
    assert code(exc) == "ExpiredToken"


def test_session_token_duration_bounds(iam, server) -> None:
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"], validate=False)
    for bad in (899, 129601):
        with pytest.raises(ClientError) as exc:
            sts.get_session_token(DurationSeconds=bad)
        assert code(exc) == "ValidationError"


def test_root_session_is_capped_at_one_hour(sts, clock) -> None:
    creds = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    assert (creds["Expiration"] - clock.now).total_seconds() == 3600


def test_access_key_info_names_the_account(sts, iam, server) -> None:
    iam.create_user(UserName="c")
    key = iam.create_access_key(UserName="c")["AccessKey"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == server.account_id
    temp = sts.get_session_token()["Credentials"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=temp)["Account"] == server.account_id


def test_tampered_session_token_is_refused(sts, server) -> None:
    creds = sts.get_session_token()["Credentials"]
    token = creds["SessionToken"]
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    bad = server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], flipped)
    with pytest.raises(ClientError) as exc:
        bad.get_caller_identity()
    assert code(exc) == "InvalidClientTokenId"
    missing = server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        missing.get_caller_identity()
    assert code(exc) == "InvalidClientTokenId"


BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def test_unknown_key_wrong_secret_and_tampering(server) -> None:
    status, body = send(server, signed(server, BODY, key="AKIAUNKNOWNUNKNOWN00"))
    assert status == 403 and "<Code>InvalidClientTokenId</Code>" in body
    status, body = send(server, signed(server, BODY, secret="wrong"))
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body
    status, body = send(server, signed(server, BODY), BODY.replace(b"Caller", b"Callex"))
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body
    assert ROOT_SECRET not in body


def test_stale_and_future_signatures(server, clock) -> None:
    req = signed(server, BODY)
    clock.advance(16 * 60)
    status, body = send(server, req)
    assert status == 403 and "Signature expired" in body
    clock.advance(-32 * 60)
    status, body = send(server, req)
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body


def test_unsigned_request_is_refused(server) -> None:
    status, body = send(server, AWSRequest("POST", server.url + "/", data=BODY, headers=dict(FORM)))
    assert status in (400, 403) and "MissingAuthenticationToken" in body


def test_presigned_query_request_and_its_expiry(server, clock) -> None:
    req = AWSRequest("GET", server.url + "/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4QueryAuth(Credentials(ROOT_KEY, ROOT_SECRET), "sts", "us-east-1", expires=60).add_auth(req)
    status, body = send(server, req)
    assert status == 200 and "<Arn>" in body
    clock.advance(61)
    status, body = send(server, req)
    assert status == 403


def test_health_and_reset(server) -> None:
    with urllib.request.urlopen(server.url + "/_rolehop/health") as resp:
        assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"
    iam = server.client("iam")
    iam.create_user(UserName="gone")
    urllib.request.urlopen(urllib.request.Request(server.url + "/_rolehop/reset", method="POST"))
    assert server.client("iam").list_users()["Users"] == []


def test_wrongly_scoped_signatures(server) -> None:
    # signed for another service: valid signature, wrong scope
    status, body = send(server, signed(server, BODY, service="s3"))
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body and "scoped" in body
    # a credential scope dated another day than the request
    req = AWSRequest("POST", server.url + "/", data=BODY, headers=dict(FORM))
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "sts", "us-east-1").add_auth(req)
    auth = req.headers["Authorization"]
    date = auth.split("Credential=", 1)[1].split("/")[1]
    other = f"{int(date) - 1:08d}"
    req.headers.replace_header("Authorization", auth.replace(f"/{date}/", f"/{other}/"))
    status, body = send(server, req)
    assert status in (400, 403) and "<ErrorResponse" in body
