"""Test support: a live rolehop on an ephemeral port, a controllable clock, real boto3 clients."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import uvicorn
from botocore.config import Config
from botocore.exceptions import ClientError

from rolehop.app import UVICORN_OPTIONS, RolehopApp, build_runtime
from rolehop.config import DEFAULT_BODY_TIMEOUT, Network, Secret, ServerConfig

ROOT_KEY = "AKIAROLEHOPTESTROOT1"
ROOT_SECRET = "test/root/secret/0123456789abcdefghijklmn"


@dataclass
class FakeClock:
    """The server's and the client's clock in tests: moved by hand, never by sleeping."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class LiveServer:
    def __init__(
        self,
        data_dir: Path,
        clock: FakeClock,
        *,
        database_url: str | None = None,
        account_id: str | None = None,
        encode_denials: bool = False,
        forwarded_allow_ips: tuple[Network, ...] = (),
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        rate_limit: float = 0.0,
        rate_burst: float | None = None,
    ) -> None:
        self.clock = clock
        self.config = ServerConfig(
            data_dir=data_dir,
            database_url=database_url,
            encode_denials=encode_denials,
            dev=True,
            account_id=account_id,
            root_access_key_id=ROOT_KEY,
            root_secret=Secret(ROOT_SECRET),
            forwarded_allow_ips=forwarded_allow_ips,
            body_timeout=body_timeout,
            rate_limit=rate_limit,
            rate_burst=rate_burst,
        )
        self.app = RolehopApp(build_runtime(self.config, clock=clock), self.config)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # the same uvicorn settings as `rolehop serve`
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", **UVICORN_OPTIONS
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)

    @property
    def account_id(self) -> str:
        return self.app.rt.settings.management_account_id

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def client(
        self,
        service: str,
        key: str = ROOT_KEY,
        secret: str = ROOT_SECRET,
        token: str | None = None,
        region: str = "us-east-1",
        *,
        validate: bool = True,
    ) -> Any:
        """A real boto3 client; validate=False lets bad input reach the server, as other SDKs may send it."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
        )

    def organizations(self) -> Any:
        """The management account's Organizations client, once it has created its organization (a
        fresh store has none, as a new AWS account)."""
        orgs = self.client("organizations")
        orgs.create_organization(FeatureSet="ALL")
        return orgs

    def client_for(self, service: str, creds: dict[str, Any]) -> Any:
        """A client from an AccessKey or Credentials shape (long-term or temporary)."""
        return self.client(service, creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken"))


def user_keys(iam: Any, name: str) -> dict[str, str]:
    """A new IAM user and its access key (the AccessKey shape, secret included)."""
    iam.create_user(UserName=name)
    return iam.create_access_key(UserName=name)["AccessKey"]


def aws_cli(server: LiveServer, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The AWS CLI (awscli, its own botocore) as a subprocess, with the account root's keys."""
    env = {
        "HOME": str(home),
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": ROOT_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": server.url,
    }
    return subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def org_error(call: Any) -> tuple[str, str, str]:
    """(code, Reason, message) of an Organizations call that is refused."""
    with pytest.raises(ClientError) as exc:
        call()
    body = exc.value.response
    return body["Error"]["Code"], body.get("Reason", ""), body["Error"]["Message"]


def management_operator(server: LiveServer) -> dict[str, str]:
    """The access key of an administrator of the management account (who may assume the members'
    OrganizationAccountAccessRole)."""
    iam = server.client("iam")
    iam.create_user(UserName="operator")
    iam.attach_user_policy(UserName="operator", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    return iam.create_access_key(UserName="operator")["AccessKey"]


def member_credentials(
    server: LiveServer, operator: dict[str, str], account: str, session: str = "operator"
) -> dict[str, Any]:
    """Credentials of the operator's session in a member account's OrganizationAccountAccessRole."""
    return server.client_for("sts", operator).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName=session
    )["Credentials"]
