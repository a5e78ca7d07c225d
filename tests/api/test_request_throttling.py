"""Request throttling, seen by real clients: a token bucket per principal (after authentication) and
per source address (before it), answered with each service's own throttling error, which botocore's
standard retry mode takes for throttling. The buckets run on the server's clock (FakeClock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.retries import standard

from rolehop.services.organizations.organization import create_organization_in
from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer, user_keys


@pytest.fixture
def throttled(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    """1 request a second per principal with a burst of 3; a source address gets 4 a second, 12 at once."""
    live = LiveServer(tmp_path / "data", clock, rate_limit=1, rate_burst=3)
    with live.app.rt.store.transaction() as tx:  # made without a request: the tests count tokens
        create_organization_in(live.app.rt, tx, "ALL")
    yield live
    live.stop()


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_principal_over_its_rate_gets_throttling_and_nothing_changes(throttled: LiveServer) -> None:
    iam, sts = throttled.client("iam"), throttled.client("sts")
    keys = user_keys(iam, "alice")  # the root's 1st and 2nd requests
    iam.get_user(UserName="alice")
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="never")
    assert error(exc) == ("Throttling", 400)
    assert exc.value.response["Error"]["Type"] == "Sender"  # the Query shape: <ErrorResponse><Error>
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()  # the bucket is the principal's, whichever service it calls
    assert error(exc) == ("Throttling", 400)
    # another principal from the same address is not held back
    alice = throttled.client_for("sts", keys)
    assert alice.get_caller_identity()["Arn"].endswith(":user/alice")
    throttled.clock.advance(1)  # one token back
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName="never")
    assert error(exc) == ("NoSuchEntity", 404)  # the throttled CreateUser created nothing


def test_organizations_answers_too_many_requests(throttled: LiveServer) -> None:
    orgs = throttled.client("organizations")
    for _ in range(3):
        orgs.describe_organization()
    with pytest.raises(ClientError) as exc:
        orgs.describe_organization()
    assert error(exc) == ("TooManyRequestsException", 400)
    assert exc.value.response["Error"]["Message"] == "Rate exceeded"
    assert (
        exc.value.response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"
    )


def test_a_flooding_source_is_refused_before_its_signatures_are_checked(throttled: LiveServer) -> None:
    forged = throttled.client("sts", key="AKIANOSUCHKEY0000001", secret="wrong")
    for _ in range(12):  # the source address's burst, each request refused for its key
        with pytest.raises(ClientError) as exc:
            forged.get_caller_identity()
        assert error(exc) == ("InvalidClientTokenId", 403)
    with pytest.raises(ClientError) as exc:
        forged.get_caller_identity()
    assert error(exc) == ("Throttling", 400)  # not looked up: the address is out of requests
    with pytest.raises(ClientError) as exc:
        throttled.client("iam").list_users()  # a good key from the same address waits too
    assert error(exc) == ("Throttling", 400)
    throttled.clock.advance(1)  # 4 tokens back for the address
    assert throttled.client("iam").list_users()["Users"] == []


def test_throttling_is_off_unless_configured(server: LiveServer) -> None:
    sts = server.client("sts")
    for _ in range(30):
        sts.get_caller_identity()


@pytest.mark.parametrize(
    ("service", "call"), [("sts", "get_caller_identity"), ("organizations", "describe_organization")]
)
def test_botocore_standard_retries_take_the_answers_for_throttling(
    throttled: LiveServer, monkeypatch: pytest.MonkeyPatch, service: str, call: str
) -> None:
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)  # no sleep
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    seen: list[bool] = []

    def classify(**kwargs: Any) -> None:
        if kwargs["response"] and kwargs["response"][1].get("Error"):
            seen.append(detector.is_throttling_error(**kwargs))

    client = boto3.client(
        service,
        endpoint_url=throttled.url,
        region_name="us-east-1",
        aws_access_key_id=throttled.config.root_access_key_id,
        aws_secret_access_key=throttled.config.root_secret.reveal(),
        config=Config(retries={"mode": "standard", "total_max_attempts": 2}),
    )
    client.meta.events.register("needs-retry.*", classify)
    for _ in range(3):
        getattr(client, call)()
    with pytest.raises(ClientError) as exc:
        getattr(client, call)()  # refused, retried at once (the clock stands still), refused again
    assert exc.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert seen == [True, True]


def test_a_request_the_hot_path_starts_over_costs_one_token(throttled: LiveServer) -> None:
    """AssumeRole is tried on the event loop first and starts over in a thread at its first store read
    (here: the role, not yet cached), after its principal's token was taken (offload)."""
    iam = throttled.client("iam")
    keys = user_keys(iam, "ops")
    iam.attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    throttled.clock.advance(10)
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
        f'"Principal": {{"AWS": "arn:aws:iam::{throttled.account_id}:user/ops"}}}}]}}'
    )
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    ops = throttled.client_for("sts", keys)
    ops.get_caller_identity()  # the key is cached now (for 5 s), the role is not
    throttled.clock.advance(1)  # ops's bucket is full again
    for _ in range(3):  # the burst, although the first request ran twice
        ops.assume_role(RoleArn=role, RoleSessionName="ops")
    with pytest.raises(ClientError) as exc:
        ops.assume_role(RoleArn=role, RoleSessionName="ops")
    assert error(exc) == ("Throttling", 400)


def test_rolehops_own_signed_api_shares_the_principals_bucket(throttled: LiveServer) -> None:
    """GET /_rolehop/assumable-roles is signed like any call: it costs the same tokens and is
    refused with the same answer once they are spent."""

    def assumable_roles() -> httpx.Response:
        request = AWSRequest("GET", throttled.url + "/_rolehop/assumable-roles")
        SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "sts", "us-east-1").add_auth(request)
        return httpx.get(request.url, headers=dict(request.headers))

    for _ in range(3):
        assert assumable_roles().status_code == 200
    refused = assumable_roles()
    assert refused.status_code == 400 and refused.json()["__type"] == "Throttling"
    with pytest.raises(ClientError) as exc:
        throttled.client("sts").get_caller_identity()  # the same bucket as the API's
    assert error(exc) == ("Throttling", 400)
