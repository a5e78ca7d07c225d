"""The federation endpoint takes input from anyone, signed in or not: whatever the Session and the
other parameters hold, GET or POST, the answer is AWS's federation error (400, "Invalid credentials
parameter") or a success — never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolehop.wire.limits import MAX_QUERY
from support import LiveServer, user_keys

INVALID_CREDENTIALS = "Invalid credentials parameter"


@pytest.fixture
def creds(server: LiveServer) -> dict[str, Any]:
    """Real AssumeRole credentials: a fuzzed Session around them reaches past the JSON parse."""
    iam = server.client("iam")
    keys = user_keys(iam, "ops")
    iam.attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="console", AssumeRolePolicyDocument=json.dumps(trust))
    role = f"arn:aws:iam::{server.account_id}:role/console"
    return dict(
        server.client_for("sts", keys).assume_role(RoleArn=role, RoleSessionName="ops")["Credentials"]
    )


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        yield client


def federation(http: httpx.Client, method: str, params: dict[str, str]) -> httpx.Response:
    if method == "GET":
        return http.get("/federation", params=params)
    return http.post("/federation", data=params)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_deeply_nested_session_is_invalid_credentials(http: httpx.Client, method: str) -> None:
    for session in ("[" * 3000, '{"sessionId":' * 3000, "[" * 65 + "]" * 65):
        answer = federation(http, method, {"Action": "getSigninToken", "Session": session})
        if method == "GET" and len(urlencode({"Session": session})) > MAX_QUERY:
            assert answer.status_code == 414  # the query string's own limit answers first
            continue
        assert answer.status_code == 400
        assert answer.text.startswith(INVALID_CREDENTIALS)


def test_a_session_with_unencodable_strings_is_invalid_credentials(
    http: httpx.Client, creds: dict[str, Any]
) -> None:
    # JSON may spell a lone surrogate ("\ud800"), a str that UTF-8 refuses to encode
    for field in ("sessionId", "sessionKey"):
        session = {
            "sessionId": creds["AccessKeyId"],
            "sessionKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
            field: "\ud800",
        }
        answer = federation(http, "POST", {"Action": "getSigninToken", "Session": json.dumps(session)})
        assert answer.status_code == 400 and answer.text.startswith(INVALID_CREDENTIALS)


# Text a browser or a script can send: any character but the surrogates UTF-8 cannot encode.
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
ACTIONS = ["getSigninToken"] * 4 + ["login", "", "GetSigninToken", "nothing"]
SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)


def sessions(creds: dict[str, Any]) -> st.SearchStrategy[str]:
    real = {
        "sessionId": creds["AccessKeyId"],
        "sessionKey": creds["SecretAccessKey"],
        "sessionToken": creds["SessionToken"],
    }
    depths = st.sampled_from([64, 65, 1500, 3000, 3000]) | st.integers(1, 3000)
    nested = st.tuples(st.sampled_from(["[", "{", '{"a":', '["x",', '{"sessionId":']), depths)
    deep = nested.map(lambda pair: pair[0] * pair[1])
    field_values = st.sampled_from(list(real.values())) | JSON_VALUES | SURROGATES
    near_real = st.fixed_dictionaries(
        {}, optional={key: field_values for key in ("sessionId", "sessionKey", "sessionToken", "x")}
    ).map(lambda changed: json.dumps({**real, **changed}))
    # one_of draws its branches about evenly: the two likeliest failures get two each
    return st.one_of(
        deep, deep, near_real, near_real, JSON_VALUES.map(json.dumps), TEXT
    )  # JSON_VALUES include NaN and Infinity, which are not JSON


def parameters(creds: dict[str, Any]) -> st.SearchStrategy[dict[str, str]]:
    numbers = st.integers(-(10**30), 10**30).map(str)
    return st.fixed_dictionaries(
        {"Action": st.sampled_from(ACTIONS), "Session": sessions(creds)},
        optional={
            "SessionDuration": numbers | TEXT | st.sampled_from(["900", "3600", "43200", "1_000", " 900 "]),
            "SigninToken": TEXT | st.binary(max_size=120).map(lambda b: b.hex()),
            "Issuer": TEXT | st.just("https://idp.example/"),
            "Destination": TEXT | st.sampled_from(["/", "//evil.example", "https://evil.example/x"]),
            "DisplayName": TEXT,
            "Color": TEXT,
            "Extra": TEXT,
        },
    )


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_malformed_federation_requests_never_get_a_5xx(
    http: httpx.Client, creds: dict[str, Any], data: st.DataObject
) -> None:
    method = data.draw(st.sampled_from(["GET", "POST"]))
    params = data.draw(parameters(creds))
    if method == "GET" and len(params.get("Session", "")) > 3000:
        params["Session"] = params["Session"][:3000]  # a URL's limit; POST bodies carry more
    answer = federation(http, method, params)
    assert answer.status_code < 500, (method, params, answer.text[:300])
    if params["Action"] == "getSigninToken" and answer.status_code != 200:
        assert answer.status_code == 400
