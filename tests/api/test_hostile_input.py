"""Reliability under hostile input (issue 15): generated requests of every kind never get a 5xx.

In-process and bounded (a few hundred examples a test); `make fuzz` (bench/fuzz.py) sends the same
kinds of request by the hundred thousand to a live server. Each request is signed with botocore's
SigV4Auth with the root key, so the operations themselves run, not only the signature check.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import (
    Driver,
    Hostile,
    InProcess,
    federation_requests,
    garbage_signatures,
    mistyped_bodies,
    operation_requests,
    policy_requests,
    signin_forms,
    switch_role_forms,
)
from rolehop.app import RolehopApp, build_runtime
from rolehop.config import Secret, ServerConfig
from support import ROOT_KEY, ROOT_SECRET, FakeClock

BUDGET = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def driver(tmp_path: Path, clock: FakeClock) -> Iterator[Driver]:
    config = ServerConfig(
        data_dir=tmp_path / "data", dev=True, root_access_key_id=ROOT_KEY, root_secret=Secret(ROOT_SECRET)
    )
    app = RolehopApp(build_runtime(config, clock=clock), config)
    transport = InProcess(app)
    out = httpx.Client(transport=transport, base_url="http://rolehop.test", follow_redirects=False)
    signed_in = httpx.Client(transport=transport, base_url="http://rolehop.test", follow_redirects=False)
    d = Driver(out, signed_in, ROOT_KEY, ROOT_SECRET)
    d.prepare(app.rt.settings.management_account_id)
    yield d
    out.close()
    signed_in.close()
    app.rt.store.close()


def no_server_error(driver: Driver, request: Hostile) -> httpx.Response:
    answer = driver.send(request)
    assert answer.status_code < 500, (request.describe(), answer.status_code, answer.text[:500])
    return answer


def aws_shaped(answer: httpx.Response) -> None:
    """An API refusal is AWS's: XML ErrorResponse (Query) or a JSON __type (JSON 1.1)."""
    if answer.status_code < 400:
        return
    if answer.headers.get("content-type", "").startswith("application/x-amz-json"):
        assert {"__type", "message"} <= answer.json().keys(), answer.text
    else:
        assert "<ErrorResponse" in answer.text and "<Code>" in answer.text, answer.text[:300]


def still_serving(driver: Driver) -> None:
    """Whatever the hostile requests did, the root key still works and the signed-in browser too."""
    assert driver.call("sts", "GetCallerIdentity", {}).status_code == 200
    assert driver.signed_in.get("/").status_code == 200


@settings(BUDGET, max_examples=400)
@given(request=operation_requests())
def test_random_operations_with_random_parameters(driver: Driver, request: Hostile) -> None:
    aws_shaped(no_server_error(driver, request))


@BUDGET
@given(request=mistyped_bodies())
def test_mistyped_and_malformed_bodies(driver: Driver, request: Hostile) -> None:
    aws_shaped(no_server_error(driver, request))


@BUDGET
@given(request=policy_requests())
def test_random_and_near_valid_policy_documents(driver: Driver, request: Hostile) -> None:
    aws_shaped(no_server_error(driver, request))


@BUDGET
@given(request=garbage_signatures())
def test_garbage_sigv4(driver: Driver, request: Hostile) -> None:
    answer = no_server_error(driver, request)
    if request.auth_edits:  # a field of the signature changed: never accepted
        assert answer.status_code >= 400, answer.text[:300]
    replaced = {name for name, _ in request.auth_edits} | {name for name, _ in request.header_edits}
    if request.auth_edits and not replaced & {"Algorithm", "Authorization"}:
        # still AWS4-HMAC-SHA256, so the API's (without it, the console's: DESIGN.md's routing)
        aws_shaped(answer)


@settings(BUDGET, max_examples=200)
@given(request=st.one_of(signin_forms(), switch_role_forms(), federation_requests()))
def test_console_forms_and_federation(driver: Driver, request: Hostile) -> None:
    no_server_error(driver, request)


def test_the_service_survives_the_suite(driver: Driver) -> None:
    """One pass of every kind in a row against the same store, then the service still answers."""

    @BUDGET
    @given(
        request=st.one_of(
            operation_requests(),
            policy_requests(),
            garbage_signatures(),
            switch_role_forms(),
            federation_requests(),
        )
    )
    def mixed(request: Hostile) -> None:
        no_server_error(driver, request)

    mixed()
    still_serving(driver)
