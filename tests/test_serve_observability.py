"""`rolehop serve` as operators run it: JSON log lines on standard error, Prometheus metrics summed
over `--workers 2`, and a SIGTERM that lets the request in flight finish and flushes batched writes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from prometheus_client.parser import text_string_to_metric_families

KEY, SECRET = "AKIAROLEHOPOBSERVE01", "observability-root-secret-0123456789"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
REQUEST_FIELDS = {
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "service",
    "operation",
    "status",
    "duration_ms",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@contextmanager
def serve(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`rolehop serve --dev` on a free port, standard error in a file (not a terminal: JSON lines)."""
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    environ = dict(
        os.environ, ROLEHOP_ROOT_ACCESS_KEY_ID=KEY, ROLEHOP_ROOT_SECRET_ACCESS_KEY=SECRET, **(env or {})
    )
    environ.pop("ROLEHOP_LOG_FORMAT", None)
    cmd = [
        sys.executable,
        "-m",
        "rolehop",
        "serve",
        "--dev",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *args,
    ]
    with log.open("wb") as err:
        process = subprocess.Popen(cmd, env=environ, stdout=subprocess.DEVNULL, stderr=err)
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(served.url + "/_rolehop/live", timeout=1).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.2)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(30)


def client(url: str, service: str, key: str = KEY, secret: str = SECRET, token: str | None = None) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with httpx.Client() as fresh:  # a new connection: any worker may answer it
        page = fresh.get(url + "/metrics", headers={"Connection": "close"})
    assert page.status_code == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(page.text)
        for s in family.samples
    }


def test_two_workers_expose_the_sum_of_their_metrics(tmp_path: Path) -> None:
    labels = frozenset({"service": "sts", "operation": "GetCallerIdentity", "status": "2xx"}.items())

    def answered_by(served: Served) -> set[int]:
        return {line["pid"] for line in served.lines() if line.get("operation") == "GetCallerIdentity"}

    with serve(tmp_path / "data", "--workers", "2") as served:
        # new clients, new connections, many at once: both workers accept some, though not in every
        # burst (the worker that accepted last may win every connection), so bursts go on until both
        # have answered
        requests = 0
        with ThreadPoolExecutor(max_workers=15) as pool:
            for _burst in range(20):
                list(pool.map(lambda _: client(served.url, "sts").get_caller_identity(), range(15)))
                requests += 15
                time.sleep(0.3)  # the request log lines are written by a thread of their own
                if len(answered_by(served)) == 2:
                    break
        for _ in range(10):  # whichever worker answers the scrape adds up both
            assert scrape(served.url)[("rolehop_requests_total", labels)] == requests
        served.process.terminate()
        served.process.wait(30)
    assert len(answered_by(served)) == 2, "every request went to one worker: the sum was not put to the test"


def test_log_lines_are_json_and_never_carry_a_secret(tmp_path: Path) -> None:
    password, new_password, mfa_code = "Known-password-123!", "Known-password-456!", "918273"
    with serve(tmp_path / "data", env={"ROLEHOP_METRICS": "off"}) as served:
        iam = client(served.url, "iam")
        iam.create_user(UserName="carol")
        key = iam.create_access_key(UserName="carol")["AccessKey"]
        iam.put_user_policy(
            UserName="carol",
            PolicyName="own",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
        iam.create_login_profile(UserName="carol", Password=password)
        carol = client(served.url, "iam", key["AccessKeyId"], key["SecretAccessKey"])
        carol.change_password(OldPassword=password, NewPassword=new_password)
        carol_sts = client(served.url, "sts", key["AccessKeyId"], key["SecretAccessKey"])
        with pytest.raises(
            carol_sts.exceptions.ClientError
        ):  # no such device; the code was sent all the same
            carol_sts.get_session_token(SerialNumber="arn:aws:iam::123456789012:mfa/none", TokenCode=mfa_code)
        creds = carol_sts.get_session_token()["Credentials"]
        session = client(
            served.url, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        assert session.get_caller_identity()["Arn"].endswith(":user/carol")
        # secrets in a query string and a console form: still only the path is logged
        httpx.get(served.url + "/", params={"X-Amz-Security-Token": creds["SessionToken"], "Secret": SECRET})
        httpx.post(served.url + "/signin", data={"username": "carol", "password": new_password})
        assert httpx.get(served.url + "/metrics").status_code == 404  # ROLEHOP_METRICS=off
        served.process.terminate()
        served.process.wait(30)

    text = served.log.read_text()
    secrets = {
        "root secret": SECRET,
        "secret access key": key["SecretAccessKey"],
        "temporary secret": creds["SecretAccessKey"],
        "session token": creds["SessionToken"],
        "password": password,
        "new password": new_password,
        "MFA code": mfa_code,
    }
    leaked = [what for what, secret in secrets.items() if secret in text]
    assert not leaked, leaked
    lines = served.lines()  # every line is one JSON object
    requests = [
        line for line in lines if line["logger"] == "rolehop.request" and line["service"] in ("iam", "sts")
    ]
    assert all(line.keys() >= REQUEST_FIELDS for line in requests), requests
    caller = next(line for line in requests if line["operation"] == "GetCallerIdentity")
    assert (
        caller["principal"].endswith(":user/carol") and caller["service"] == "sts" and caller["status"] == 200
    )
    denied = next(line for line in requests if line.get("error") == "AccessDenied")
    assert denied["operation"] == "GetSessionToken" and denied["status"] == 403


def signed_request(url: str, key: dict[str, str]) -> tuple[bytes, bytes]:
    """The head and body of a GetCallerIdentity signed with `key`, as raw HTTP/1.1."""
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url=url + "/", data=body, headers={"Content-Type": FORM})
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "sts", "us-east-1").add_auth(request)
    host = url.removeprefix("http://")
    headers = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    head = f"POST / HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
    return head.encode(), body.encode()


def refuses_connections(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/_rolehop/live", timeout=1)
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


def test_sigterm_lets_the_request_in_flight_finish_and_flushes_the_trail(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve(data) as served:
        iam = client(served.url, "iam")
        iam.create_user(UserName="dave")
        key = iam.create_access_key(UserName="dave")["AccessKey"]
        head, body = signed_request(served.url, key)
        with socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1]))) as conn:
            conn.sendall(head + body[:10])  # the request is in flight: half its body has arrived
            served.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 20
            while not refuses_connections(served.url):  # shutting down: no new connections
                assert time.monotonic() < deadline, "the server kept accepting connections"
                time.sleep(0.1)
            conn.sendall(body[10:])
            answer = conn.makefile("rb").read()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b":user/dave</Arn>" in answer
        # uvicorn raises the signal again once it has shut down, so that a supervisor sees why it ended
        assert served.process.wait(30) == -signal.SIGTERM
    with serve(data) as again:  # the call's record (the key's last use) was written at shutdown, not lost
        used = client(again.url, "iam").get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        assert used["AccessKeyLastUsed"]["ServiceName"] == "sts"
        assert "LastUsedDate" in used["AccessKeyLastUsed"]
