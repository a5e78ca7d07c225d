"""Hostile requests for the reliability suite, as hypothesis strategies.

Shared by the bounded tests (tests/api/test_hostile_input.py, in-process) and `make fuzz`
(bench/fuzz.py, against a live `rolehop serve --dev`). A `Hostile` is what to send; `Driver.send`
signs it with botocore's SigV4Auth at send time, as real clients do, then breaks the signature when
the request asks for it. Operations and parameters come from botocore's models, so signed requests
reach the operations themselves, not only the codec's refusals.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.serialize import create_serializer
from botocore.session import get_session
from hypothesis import strategies as st

import rolehop.services  # noqa: F401 - registers every operation
from rolehop.services.pipeline.registry import OPERATIONS
from shape_strategies import TEXT, scalar_strategy, string_strategy

REGION = "us-east-1"
SERVICES = ("iam", "sts", "organizations")
FORM = "application/x-www-form-urlencoded; charset=utf-8"
CSRF = "\x00csrf"  # a form field's value the driver replaces with the page's CSRF token
JUNK = st.text(TEXT, max_size=40) | st.sampled_from(
    ["", "-1", "0", "99999999999999999999", "null", "{}", "%"]
)
# what HTTP allows in a header value (no DEL, no controls); h11 refuses the rest before sending
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80
)
_JSON = st.recursive(  # any JSON value
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | JUNK,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JUNK, inner, max_size=3),
    max_leaves=12,
)
# who the reliability suite signs in as, and the role it switches to (prepare() makes them)
TARGET = "fuzz-target"
PASSWORD = "Fuzz-Passw0rd-0123456789!"


@dataclass(frozen=True)
class Hostile:
    """One request: `sign` names the service to sign for (None: unsigned); `auth_edits` replace
    fields of the signed Authorization header, `header_edits` set (or, with None, drop) headers."""

    kind: str
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    sign: str | None = None
    auth_edits: tuple[tuple[str, str], ...] = ()
    header_edits: tuple[tuple[str, str | None], ...] = ()
    form: tuple[tuple[str, str], ...] = ()
    signed_in: bool = False  # a console form sent by the signed-in browser (else the signed-out one)

    def describe(self) -> str:
        return repr(self)[:2000]


# ------------------------------------------------------------------ values of botocore's shapes


@cache
def model(service: str) -> Any:
    return get_session().get_service_model(service)


@cache
def _strings(shape: Any) -> st.SearchStrategy[str]:
    try:
        return string_strategy(shape)
    except (re.error, ValueError):  # a pattern Python cannot generate from: any text
        return st.text(TEXT, max_size=30)


def shape_values(
    shape: Any, names: st.SearchStrategy[str] | None = None, depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values of a shape that botocore's serializer accepts: mostly valid, sometimes any text for a
    string, and now and then without a required member, so that both the operations and their
    refusals run. `names` (when given) are drawn for members named like `UserName`, `RoleName`…
    so that an operation sometimes finds what it names."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 3:
            return st.just({})
        members = {name: _member(name, member, names, depth) for name, member in shape.members.items()}
        required = {name: members[name] for name in shape.required_members}
        optional = {name: value for name, value in members.items() if name not in required}
        return st.fixed_dictionaries(required, optional=optional) | st.fixed_dictionaries(
            {}, optional=members
        )
    if kind == "list":
        return st.lists(shape_values(shape.member, names, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(_strings(shape.key), shape_values(shape.value, names, depth + 1), max_size=3)
    if kind == "string":
        return st.one_of(_strings(shape), _strings(shape), _strings(shape), st.text(TEXT, max_size=30))
    in_bounds, any_value = scalar_strategy(shape, valid=True), scalar_strategy(shape, valid=False)
    if in_bounds is None or any_value is None:
        return st.none()
    return st.one_of(in_bounds, in_bounds, in_bounds, any_value)  # out of bounds a quarter of the time


def _member(
    name: str, shape: Any, names: st.SearchStrategy[str] | None, depth: int
) -> st.SearchStrategy[Any]:
    values = shape_values(shape, names, depth + 1)
    if names is not None and shape.type_name == "string" and name.endswith("Name"):
        return values | names
    return values


# operations that change or remove what they name: never pointed at the suite's own user and role
_DESTRUCTIVE = (
    "Delete",
    "Update",
    "Deactivate",
    "Remove",
    "Detach",
    "Untag",
    "Change",
    "Put",
    "Attach",
    "Resync",
)


@cache
def registered(service: str) -> tuple[str, ...]:
    """The operations rolehop implements (the rest of botocore's are only sometimes drawn)."""
    return tuple(sorted(name for svc, name in OPERATIONS if svc == service))


@cache  # built once per operation: hypothesis validates a new strategy on its first draw
def operation_params(service: str, name: str) -> st.SearchStrategy[dict[str, Any]]:
    shape = model(service).operation_model(name).input_shape
    pool = ("fuzzed", "fuzzed-role") if name.startswith(_DESTRUCTIVE) else ("fuzzed", "fuzzed-role", TARGET)
    return st.just({}) if shape is None else shape_values(shape, st.sampled_from(pool))


def serialized(service: str, name: str, params: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers botocore's serializer makes of the parameters, as boto3 sends them."""
    operation = model(service).operation_model(name)
    protocol = model(service).metadata["protocol"]
    request = create_serializer(protocol, include_validation=False).serialize_to_request(params, operation)
    body = request["body"]
    if isinstance(body, dict):
        body = urlencode(body).encode()
    headers = {k: str(v) for k, v in request["headers"].items()}
    if protocol == "query":
        headers["Content-Type"] = FORM
    return body, headers


@cache
def _operation_names(service: str) -> st.SearchStrategy[str]:
    """Mostly the operations rolehop implements; botocore's others a quarter of the time."""
    implemented = st.sampled_from(registered(service))
    return st.one_of(
        implemented, implemented, implemented, st.sampled_from(sorted(model(service).operation_names))
    )


_EXTRA_FIELDS = st.dictionaries(
    st.sampled_from(["Bogus", "MaxItems", "Marker", "Tags.member.1.Key", "Version"]) | JUNK, JUNK, max_size=3
)


@st.composite
def operation_requests(draw: st.DrawFn, services: tuple[str, ...] = SERVICES) -> Hostile:
    """A random operation with random parameters, serialized and signed as a real client does;
    sometimes with extra or replaced form fields a client would not send."""
    service = draw(st.sampled_from(services))
    name = draw(_operation_names(service))
    params = draw(operation_params(service, name))
    try:
        body, headers = serialized(service, name, params)
    except (TypeError, ValueError):  # a value botocore cannot serialize: send the operation bare
        body, headers = serialized(service, name, {})
    if headers.get("Content-Type") == FORM and draw(st.integers(0, 3)) == 0:
        extra = draw(_EXTRA_FIELDS)
        body = body + b"&" + urlencode(extra).encode()
    kind = "json" if service == "organizations" else "query"
    return Hostile(kind, "POST", "/", body, tuple(headers.items()), sign=service)


@st.composite
def mistyped_bodies(draw: st.DrawFn) -> Hostile:
    """Signed bodies no SDK would send: an operation's members with values of the wrong type
    (JSON 1.1), repeated or badly encoded form fields (Query), or bytes that are neither."""
    service = draw(st.sampled_from(SERVICES))
    name = draw(_operation_names(service))
    shape = model(service).operation_model(name).input_shape
    members = sorted(shape.members) if shape is not None else []
    keys = st.sampled_from(members) | JUNK if members else JUNK
    if service == "organizations":
        body = json.dumps(draw(st.dictionaries(keys, _JSON, max_size=4))).encode()
        body = draw(
            st.sampled_from([body, body, b"[" * 5000, b"", b"null", b'{"a": 1e999}']) | st.binary(max_size=40)
        )
        target = draw(st.sampled_from([f"AWSOrganizationsV20161128.{name}", name, ""]) | HEADER_TEXT)
        headers = (("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target.strip()))
        return Hostile("mistyped", "POST", "/", body, headers, sign=service)
    fields = draw(st.lists(st.tuples(keys | st.just("Action"), JUNK), max_size=5))
    body = urlencode([("Action", name), ("Version", model(service).api_version), *fields]).encode()
    body = draw(st.sampled_from([body, body, body + b"&%zz=%", body + b"&&=&a"]) | st.binary(max_size=40))
    return Hostile("mistyped", "POST", "/", body, (("Content-Type", FORM),), sign=service)


# ------------------------------------------------------------------ policy documents


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values three times in four, anything else the fourth."""
    return st.one_of(valid, valid, valid, JUNK)


_ACTIONS = _mostly(
    st.sampled_from(["*", "iam:*", "s3:GetObject", "sts:AssumeRole", "iam:Get*", "ec2:*Instance?"])
)
_RESOURCES = _mostly(st.sampled_from(["*", "arn:aws:s3:::bucket/*", "arn:aws:iam::123456789012:role/x"]))
_OPERATORS = (
    st.sampled_from(
        [
            "StringEquals",
            "StringLike",
            "ArnLike",
            "IpAddress",
            "DateGreaterThan",
            "NumericLessThan",
            "Bool",
            "Null",
            "ForAnyValue:StringEquals",
            "ForAllValues:StringLike",
            "StringEqualsIfExists",
            "BinaryEquals",
        ]
    )
    | JUNK
)


def _one_or_many(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A policy element: one value or a list of them."""
    return values | st.lists(values, max_size=3)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(_mostly(st.sampled_from(["Allow", "Deny"]))),
        draw(st.sampled_from(["Action", "NotAction"])): draw(_one_or_many(_ACTIONS)),
        draw(st.sampled_from(["Resource", "NotResource"])): draw(_one_or_many(_RESOURCES)),
    }
    if draw(st.booleans()):
        key = draw(
            st.sampled_from(["aws:SourceIp", "aws:MultiFactorAuthPresent", "aws:CurrentTime", "s3:prefix"])
            | JUNK
        )
        statement["Condition"] = {draw(_OPERATORS): {key: draw(_one_or_many(JUNK | st.integers().map(str)))}}
    if draw(st.booleans()):
        statement["Principal"] = draw(
            st.sampled_from(["*", {"AWS": "123456789012"}, {"Service": "ec2.amazonaws.com"}]) | _JSON
        )
    if draw(st.integers(0, 4)) == 0:  # a near-valid statement: one member replaced by anything
        statement[draw(st.sampled_from([*statement, "Sid", "Bogus"]))] = draw(_JSON)
    return statement


@st.composite
def policy_documents(draw: st.DrawFn) -> str:
    """Near-valid policies (a grammar with holes), random JSON, and text that is not JSON at all."""
    near = {
        "Version": draw(_mostly(st.sampled_from(["2012-10-17", "2008-10-17"]))),
        "Statement": draw(_one_or_many(statements())),
    }
    text = json.dumps(near)
    return draw(
        st.one_of(
            st.just(text), st.just(text), st.just(text), _JSON.map(json.dumps), JUNK, st.just("{" * 200)
        )
    )


_POLICY_OPERATIONS = (
    ("iam", "CreatePolicy", "PolicyDocument", {"PolicyName": "fuzzed"}),
    ("iam", "PutUserPolicy", "PolicyDocument", {"UserName": "fuzz-target", "PolicyName": "p"}),
    ("iam", "CreateRole", "AssumeRolePolicyDocument", {"RoleName": "fuzzed-role"}),
    ("iam", "PutRolePolicy", "PolicyDocument", {"RoleName": "fuzz-target", "PolicyName": "p"}),
    (
        "iam",
        "CreatePolicyVersion",
        "PolicyDocument",
        {"PolicyArn": "arn:aws:iam::123456789012:policy/fuzzed"},
    ),
    (
        "sts",
        "AssumeRole",
        "Policy",
        {"RoleArn": "arn:aws:iam::123456789012:role/fuzz-target", "RoleSessionName": "s"},
    ),
)


@st.composite
def policy_requests(draw: st.DrawFn) -> Hostile:
    document = draw(policy_documents())
    if draw(st.integers(0, 5)) == 0:  # Organizations' control policies, JSON 1.1
        params = {"Name": "fuzzed", "Description": "", "Type": "SERVICE_CONTROL_POLICY", "Content": document}
        body, headers = serialized("organizations", "CreatePolicy", params)
        return Hostile("policy", "POST", "/", body, tuple(headers.items()), sign="organizations")
    service, action, member, fixed = draw(st.sampled_from(_POLICY_OPERATIONS))
    version = model(service).api_version
    body = urlencode({"Action": action, "Version": version, **fixed, member: document}).encode()
    return Hostile("policy", "POST", "/", body, (("Content-Type", FORM),), sign=service)


# ------------------------------------------------------------------ broken signatures


@st.composite
def garbage_signatures(draw: st.DrawFn) -> Hostile:
    """A proper request whose SigV4 is then broken: a field of Authorization, the date, the token,
    or presigned query parameters that are nonsense."""
    base = draw(operation_requests(("iam", "sts")))
    auth_field = st.sampled_from(["Credential", "SignedHeaders", "Signature", "Algorithm"])
    auth_edits = draw(st.lists(st.tuples(auth_field, HEADER_TEXT), max_size=3))
    header = st.sampled_from(
        [
            "Authorization",
            "X-Amz-Date",
            "X-Amz-Security-Token",
            "X-Amz-Content-SHA256",
            "Host",
            "Content-Type",
        ]
    )
    header_edits = draw(st.lists(st.tuples(header, st.none() | HEADER_TEXT), max_size=2))
    if draw(st.integers(0, 3)) == 0:  # presigned: the signature in the query string instead
        query = draw(
            st.dictionaries(
                st.sampled_from(
                    [
                        "X-Amz-Algorithm",
                        "X-Amz-Credential",
                        "X-Amz-Date",
                        "X-Amz-Expires",
                        "X-Amz-SignedHeaders",
                        "X-Amz-Signature",
                        "X-Amz-Security-Token",
                        "Action",
                    ]
                ),
                JUNK
                | st.sampled_from(
                    ["AWS4-HMAC-SHA256", "AKIAROLEHOPTESTROOT1/20260101/us-east-1/sts/aws4_request"]
                ),
                min_size=1,
            )
        )
        return Hostile(
            "sigv4", draw(st.sampled_from(["GET", "POST"])), "/?" + urlencode(query), base.body, base.headers
        )
    return Hostile(
        "sigv4", "POST", "/", base.body, base.headers, base.sign, tuple(auth_edits), tuple(header_edits)
    )


# ------------------------------------------------------------------ console forms and federation


@st.composite
def signin_forms(draw: st.DrawFn) -> Hostile:
    fields = ("account", "username", "password", "mfa_code", "next", "csrf_token")
    form = draw(
        st.dictionaries(
            st.sampled_from(fields),
            JUNK | st.sampled_from(["123456789012", "fuzz-user", "/", "//evil.example"]),
            max_size=6,
        )
    )
    if draw(st.integers(0, 4)) > 0:
        form["csrf_token"] = CSRF
    path = draw(st.sampled_from(["/signin", "/signin", "/signin/mfa", "/signin/password"]))
    return Hostile("console", "POST", path, form=tuple(form.items()))


@st.composite
def switch_role_forms(draw: st.DrawFn) -> Hostile:
    fields = ("account", "role", "display_name", "color", "next")
    values = JUNK | st.sampled_from(["123456789012", "fuzz-target", "Admin", "red", "FF0000", "/"])
    form = draw(st.dictionaries(st.sampled_from(fields), values, max_size=5))
    if draw(st.booleans()):  # the same fields in the query of a GET (the switch-role link)
        query = {{"role": "roleName", "display_name": "displayName"}.get(k, k): v for k, v in form.items()}
        return Hostile("console", "GET", "/switchrole?" + urlencode(query), signed_in=True)
    form["csrf_token"] = CSRF
    path = draw(
        st.sampled_from(
            ["/switchrole", "/switchrole", "/switchrole/history", "/switchrole/forget", "/switchback"]
        )
    )
    return Hostile("console", "POST", path, form=tuple(form.items()), signed_in=True)


@st.composite
def federation_requests(draw: st.DrawFn) -> Hostile:
    session = {"sessionId": draw(JUNK), "sessionKey": draw(JUNK), "sessionToken": draw(JUNK)}
    values = (
        JUNK
        | st.just(json.dumps(session))
        | _JSON.map(json.dumps)
        | st.sampled_from(["900", "43201", "-5", "1e9"])
    )
    fields = (
        "Action",
        "Session",
        "SessionDuration",
        "SigninToken",
        "Issuer",
        "Destination",
        "DisplayName",
        "Color",
    )
    params = draw(st.dictionaries(st.sampled_from(fields), values, max_size=6))
    params["Action"] = draw(st.sampled_from(["getSigninToken", "login"]) | JUNK)
    method = draw(st.sampled_from(["GET", "POST"]))
    if method == "GET":
        return Hostile("federation", "GET", "/federation?" + urlencode(params))
    return Hostile("federation", "POST", "/federation", form=tuple(params.items()))


def hostile_requests() -> st.SearchStrategy[Hostile]:
    """Every kind, weighted towards the operations (where most of the code is)."""
    return st.one_of(
        operation_requests(),
        operation_requests(),
        operation_requests(),
        mistyped_bodies(),
        policy_requests(),
        garbage_signatures(),
        signin_forms(),
        switch_role_forms(),
        federation_requests(),
    )


# ------------------------------------------------------------------ sending


def _edit_authorization(value: str, edits: tuple[tuple[str, str], ...]) -> str:
    algorithm, _, rest = value.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    for name, new in edits:
        if name == "Algorithm":
            algorithm = new
        else:
            fields[name] = new
    return f"{algorithm} " + ", ".join(f"{k}={v}" for k, v in fields.items())


@dataclass
class Driver:
    """Sends hostile requests with two browsers' cookies (signed out, signed in) and the root key.
    `signed_in` and `signed_out` are httpx clients: a TestClient in-process, or over HTTP."""

    signed_out: httpx.Client
    signed_in: httpx.Client
    key: str
    secret: str
    csrf: dict[int, str] = field(default_factory=dict)

    def send(self, h: Hostile) -> httpx.Response:
        if h.form:
            client = self.signed_in if h.signed_in else self.signed_out
            form = [(k, self._csrf(client) if v == CSRF else v) for k, v in h.form]
            return client.request(
                h.method, h.path, content=urlencode(form).encode(), headers={"Content-Type": FORM}
            )
        if h.kind in ("console", "federation"):
            return (self.signed_in if h.signed_in else self.signed_out).request(h.method, h.path)
        headers = dict(h.headers)
        if h.sign is not None:
            url = str(self.signed_out.base_url).rstrip("/") + h.path
            request = AWSRequest(h.method, url, data=h.body, headers=headers)
            SigV4Auth(Credentials(self.key, self.secret), h.sign, REGION).add_auth(request)
            headers = dict(request.headers.items())
            if h.auth_edits:
                headers["Authorization"] = _edit_authorization(headers["Authorization"], h.auth_edits)
        for name, value in h.header_edits:
            headers.pop(name, None)
            if value is not None:
                headers[name] = value
        # a fresh request, no cookies (the API is not a browser); header values as bytes on the wire
        # (surrounding blanks are no part of a header value on the wire)
        raw = [(k.encode("latin-1"), v.strip(" \t").encode("latin-1")) for k, v in headers.items()]
        url = str(self.signed_out.base_url).rstrip("/") + h.path
        return self.signed_out.send(httpx.Request(h.method, url, content=h.body, headers=raw))

    def _csrf(self, client: httpx.Client) -> str:
        """The CSRF token of this browser's current cookie (the sign-in page, or the signed-in home)."""
        page = client.get("/switchrole" if client is self.signed_in else "/signin")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        return found.group(1) if found else ""

    def call(self, service: str, name: str, params: dict[str, Any]) -> httpx.Response:
        body, headers = serialized(service, name, params)
        return self.send(Hostile("setup", "POST", "/", body, tuple(headers.items()), sign=service))

    def prepare(self, account_id: str, user: str = TARGET) -> None:
        """A user with a console password, a role it may switch to, and the signed-in browser."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": account_id}}],
        }
        allow = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
        }
        steps: list[tuple[str, dict[str, Any]]] = [
            ("CreateUser", {"UserName": user}),
            ("CreateLoginProfile", {"UserName": user, "Password": PASSWORD, "PasswordResetRequired": False}),
            (
                "PutUserPolicy",
                {"UserName": user, "PolicyName": "switch", "PolicyDocument": json.dumps(allow)},
            ),
            ("CreateRole", {"RoleName": TARGET, "AssumeRolePolicyDocument": json.dumps(trust)}),
        ]
        for name, params in steps:
            answer = self.call("iam", name, params)
            # the role is shared by every driver of one server
            assert answer.status_code == 200 or "EntityAlreadyExists" in answer.text, answer.text
        form = {
            "csrf_token": self._csrf(self.signed_out),
            "account": account_id,
            "username": user,
            "password": PASSWORD,
            "next": "/",
        }
        # the signed-out browser's sign-in cookie signs the other browser in
        self.signed_in.cookies.update(self.signed_out.cookies)
        signed = self.signed_in.post("/signin", data=form)
        assert signed.status_code == 303 and signed.headers["location"] == "/", signed.text


class InProcess(httpx.BaseTransport):
    """The ASGI app called directly (no sockets), for a synchronous httpx client."""

    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.loop = asyncio.new_event_loop()
        self.inner = httpx.ASGITransport(app=app, client=client)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def run() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self.loop.run_until_complete(run())

    def close(self) -> None:
        self.loop.close()
