"""Limits on every way into the server, beside the API body's mebibyte (test_security_review) and
JSON's nesting (core/test_bounded_json): the query string, header fields, console form bodies and
fields. Each refusal comes before anything is parsed, and nothing is changed."""

from __future__ import annotations

import http.client
import json
import secrets
from urllib.parse import urlencode

from rolehop.wire.limits import MAX_CONSOLE_BODY, MAX_HEADER_BYTES, MAX_HEADERS, MAX_QUERY
from support import LiveServer


def send(
    server: LiveServer, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """A raw HTTP request (an SDK would refuse to build some of these); headers in `extra` order."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, target)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_query_string_past_the_limit_is_refused_on_every_path(server: LiveServer) -> None:
    long = "x" * (MAX_QUERY + 1)
    for target in (f"/federation?Action=getSigninToken&Session={long}", f"/?Action=ListUsers&Pad={long}"):
        status, body = send(server, "GET", target)
        assert (status, json.loads(body)) == (414, {"error": f"query string longer than {MAX_QUERY} bytes"})


def test_too_many_header_fields_are_refused(server: LiveServer) -> None:
    many = {f"X-Pad-{i}": "v" for i in range(MAX_HEADERS)}  # with Host and Content-Length: past it
    status, body = send(server, "GET", "/signin", headers=many)
    assert (status, json.loads(body)) == (431, {"error": f"more than {MAX_HEADERS} header fields"})
    assert send(server, "GET", "/signin", headers=dict(list(many.items())[:90]))[0] == 200


def test_header_fields_too_large_in_all_are_refused(server: LiveServer) -> None:
    big = {f"X-Pad-{i}": "v" * 8000 for i in range(MAX_HEADER_BYTES // 8000 + 1)}
    status, body = send(server, "GET", "/signin", headers=big)
    assert (status, json.loads(body)) == (
        431,
        {"error": f"header fields larger than {MAX_HEADER_BYTES} bytes in all"},
    )


def test_a_console_form_past_its_limit_is_refused_unparsed(server: LiveServer) -> None:
    form = urlencode(
        {"account": server.account_id, "username": "root", "pad": "x" * MAX_CONSOLE_BODY}
    ).encode()
    content = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = send(server, "POST", "/signin", form, content)
    assert (status, json.loads(body)) == (413, {"error": f"form larger than {MAX_CONSOLE_BODY} bytes"})


def test_a_console_form_with_too_many_fields_is_refused(server: LiveServer) -> None:
    form = urlencode({f"f{i}": "v" for i in range(51)}).encode()
    status, body = send(
        server, "POST", "/signin", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 400 and b"Too many fields" in body


def test_the_largest_federation_request_fits(server: LiveServer) -> None:
    """A session with a long policy and 50 tags (about 6 KiB of Session) still gets its sign-in token."""
    iam = server.client("iam")
    iam.create_user(UserName="ops")
    iam.attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:user/ops"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    role = iam.create_role(RoleName="console", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    resources = [f"arn:aws:s3:::{secrets.token_hex(12)}" for _ in range(10)]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": resources}],
    }
    sts = server.client_for("sts", iam.create_access_key(UserName="ops")["AccessKey"])
    creds = sts.assume_role(
        RoleArn=role["Arn"],
        RoleSessionName="s" * 64,
        Policy=json.dumps(policy),
        Tags=[{"Key": f"k{i}-{secrets.token_hex(8)}", "Value": secrets.token_hex(16)} for i in range(50)],
    )["Credentials"]
    session = {
        "sessionId": creds["AccessKeyId"],
        "sessionKey": creds["SecretAccessKey"],
        "sessionToken": creds["SessionToken"],
    }
    query = urlencode({"Action": "getSigninToken", "Session": json.dumps(session)})
    assert 5000 < len(query) <= MAX_QUERY
    status, body = send(server, "GET", f"/federation?{query}")
    assert status == 200 and "SigninToken" in json.loads(body)
    login = urlencode({"Action": "login", "Destination": "/", "SigninToken": json.loads(body)["SigninToken"]})
    assert len(login) <= MAX_QUERY
