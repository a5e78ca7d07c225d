"""SigV4 verification against requests signed by botocore's real signers."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import FrozenInstanceError, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from rolehop.core.errors import AwsError
from rolehop.core.sigv4 import _signing_key
from rolehop.sigv4 import SignatureError, SigV4Scope, verify_request

AKID = "AKIAROLEHOPTEST00001"
SECRET = "rolehop/test/secret+key/0123456789abcdefghij"
TOKEN = "RH1.session-token/with+odd=chars"
SIGNED_AT = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
HOST = "sts.rolehop.test"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass(frozen=True)
class Wire:
    """A request as the server receives it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str, value: str) -> Wire:
        kept = [(n, v) for n, v in self.headers if n.lower() != name.lower()]
        return replace(self, headers=[*kept, (name, value)])

    def get(self, name: str) -> str:
        return next(v for n, v in self.headers if n.lower() == name.lower())


@contextmanager
def botocore_clock(at: datetime) -> Iterator[None]:
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        yield


def _wire(request: AWSRequest, url: str) -> Wire:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return Wire(request.method, target, list(request.headers.items()), body)


def sign(
    method: str = "POST",
    url: str = f"https://{HOST}/",
    *,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    params: Sequence[tuple[str, str]] = (),
    token: str | None = None,
    service: str = "sts",
    signer: type[SigV4Auth] = SigV4Auth,
    unsigned_payload: bool = False,
    at: datetime = SIGNED_AT,
) -> Wire:
    request = AWSRequest(method=method, url=url, data=body, params=list(params))
    request.headers["Host"] = urlsplit(url).netloc  # the HTTP client adds it; botocore signs it
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders keeps repeats
    if unsigned_payload:
        request.context["payload_signing_enabled"] = False
    with botocore_clock(at):
        signer(Credentials(AKID, SECRET, token), service, "us-east-1").add_auth(request)
    prepared = request.prepare()  # encodes params into the URL as the HTTP client would send them
    return _wire(request, prepared.url)


def presign(
    url: str = f"https://{HOST}/?Action=GetCallerIdentity&Version=2011-06-15",
    *,
    expires: int = 3600,
    token: str | None = None,
    service: str = "sts",
    signer: type[SigV4QueryAuth] = SigV4QueryAuth,
    at: datetime = SIGNED_AT,
) -> Wire:
    request = AWSRequest(method="GET", url=url)
    request.headers["Host"] = urlsplit(url).netloc
    with botocore_clock(at):
        signer(Credentials(AKID, SECRET, token), service, "us-east-1", expires=expires).add_auth(request)
    return _wire(request, request.url)


def verify(
    wire: Wire,
    *,
    now: datetime = SIGNED_AT,
    secrets: dict[str, str] | None = None,
    normalize_path: bool = True,
) -> SigV4Scope:
    known = {AKID: SECRET} if secrets is None else secrets
    return verify_request(
        wire.method,
        wire.target,
        wire.headers,
        wire.body,
        secret_for=known.get,
        now=now,
        normalize_path=normalize_path,
    )


def rejected(wire: Wire, code: str, **kwargs: Any) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify(wire, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def flip(signature: str, index: int = -1) -> str:
    chars = list(signature)
    chars[index] = "0" if chars[index] != "0" else "1"
    return "".join(chars)


def with_authorization(wire: Wire, edit: Any) -> Wire:
    return wire.header("Authorization", edit(wire.get("Authorization")))


# --- the header form -------------------------------------------------------------------------------


def test_signed_request_verifies_and_reports_its_scope() -> None:
    wire = sign(body=b"Action=GetCallerIdentity&Version=2011-06-15", headers=[("Content-Type", FORM)])
    scope = verify(wire)
    assert scope == SigV4Scope(
        access_key_id=AKID,
        date="20240501",
        region="us-east-1",
        service="sts",
        signed_headers=("content-type", "host", "x-amz-date"),
        security_token=None,
        request_time=SIGNED_AT,
        presigned=False,
    )


def test_tampered_body_is_rejected() -> None:
    wire = sign(body=b"Action=GetCallerIdentity&Version=2011-06-15", headers=[("Content-Type", FORM)])
    error = rejected(replace(wire, body=b"Action=AssumeRole&Version=2011-06-15"), "SignatureDoesNotMatch")
    assert error.status == 403
    assert error.message.startswith("The request signature we calculated does not match")


def test_tampered_signed_header_is_rejected() -> None:
    wire = sign(headers=[("X-Custom", "original")])
    rejected(wire.header("X-Custom", "changed"), "SignatureDoesNotMatch")


def test_unsigned_extra_header_does_not_matter() -> None:
    wire = sign()
    assert verify(wire.header("User-Agent", "added-by-a-proxy")).access_key_id == AKID


def test_header_names_any_case_and_values_untrimmed() -> None:
    wire = sign(headers=[("X-Custom", "a   b")])
    shouted = [
        (name.upper(), f"  {value}  ") for name, value in wire.headers if name.lower() != "authorization"
    ]
    assert verify(replace(wire, headers=[*shouted, ("authorization", wire.get("Authorization"))]))


def test_repeated_headers_are_joined_in_order() -> None:
    wire = sign(headers=[("X-Multi", "first"), ("X-Multi", "second")])
    assert [v for n, v in wire.headers if n == "X-Multi"] == ["first", "second"]
    assert verify(wire)
    swapped = [(n, {"first": "second", "second": "first"}.get(v, v)) for n, v in wire.headers]
    rejected(replace(wire, headers=swapped), "SignatureDoesNotMatch")


@pytest.mark.parametrize("index", [0, 31, -1])
def test_tampered_signature_is_rejected(index: int) -> None:
    wire = sign()
    tampered = with_authorization(wire, lambda v: v[:-64] + flip(v[-64:], index))
    rejected(tampered, "SignatureDoesNotMatch")


def test_unknown_key_is_invalid_client_token_id() -> None:
    error = rejected(sign(), "InvalidClientTokenId", secrets={})
    assert error.status == 403
    assert error.message == "The security token included in the request is invalid."


def test_wrong_secret_does_not_match() -> None:
    rejected(sign(), "SignatureDoesNotMatch", secrets={AKID: "not-the-secret"})


def test_scope_date_must_be_the_request_date() -> None:
    wire = with_authorization(sign(), lambda v: v.replace("/20240501/", "/20240430/"))
    error = rejected(wire, "SignatureDoesNotMatch")
    assert error.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        "'20240430' != '20240501', from '20240501T120000Z'."
    )


def test_stale_request_is_expired_with_aws_message() -> None:
    error = rejected(sign(), "SignatureDoesNotMatch", now=SIGNED_AT + timedelta(minutes=16))
    assert error.message == (
        "Signature expired: 20240501T120000Z is now earlier than 20240501T120100Z "
        "(20240501T121600Z - 15 min.)"
    )


def test_future_request_is_not_yet_current() -> None:
    error = rejected(sign(), "SignatureDoesNotMatch", now=SIGNED_AT - timedelta(minutes=16))
    assert error.message == (
        "Signature not yet current: 20240501T120000Z is still later than 20240501T115900Z "
        "(20240501T114400Z + 15 min.)"
    )


@pytest.mark.parametrize("skew", [timedelta(minutes=15), -timedelta(minutes=15)])
def test_fifteen_minutes_either_way_is_accepted(skew: timedelta) -> None:
    assert verify(sign(), now=SIGNED_AT + skew)


def test_naive_now_is_taken_as_utc() -> None:
    assert verify(sign(), now=SIGNED_AT.replace(tzinfo=None))


def test_date_header_supplies_the_time_when_there_is_no_x_amz_date() -> None:
    wire = sign(headers=[("Date", "placeholder: botocore rewrites it")])
    assert not any(n.lower() == "x-amz-date" for n, _ in wire.headers)
    scope = verify(wire)
    assert scope.request_time == SIGNED_AT
    assert "date" in scope.signed_headers


def test_session_token_header_is_surfaced() -> None:
    scope = verify(sign(token=TOKEN))
    assert scope.security_token == TOKEN
    assert "x-amz-security-token" in scope.signed_headers
    assert TOKEN not in repr(scope)


def test_session_token_added_after_signing_is_still_surfaced() -> None:
    wire = sign().header("X-Amz-Security-Token", TOKEN)  # unsigned: the server validates it itself
    assert verify(wire).security_token == TOKEN


def test_dot_segments_and_double_slashes_are_normalized() -> None:
    wire = sign("GET", f"https://{HOST}/a//b/./c/../d%20e/")
    assert wire.target == "/a//b/./c/../d%20e/"
    assert verify(wire)


# --- payload hash ----------------------------------------------------------------------------------


def test_unsigned_payload_is_honoured() -> None:
    wire = sign(body=b"streamed", unsigned_payload=True)
    assert wire.get("X-Amz-Content-SHA256") == "UNSIGNED-PAYLOAD"
    assert verify(replace(wire, body=b"anything at all"))


def test_declared_payload_hash_must_match_the_body() -> None:
    wire = sign("PUT", "http://bucket.s3.rolehop.test/key", body=b"hello", service="s3", signer=S3SigV4Auth)
    assert verify(wire, normalize_path=False)
    error = rejected(replace(wire, body=b"HELLO"), "XAmzContentSHA256Mismatch", normalize_path=False)
    assert error.status == 400


def test_chunk_signed_payloads_are_refused() -> None:
    wire = sign().header("X-Amz-Content-SHA256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    rejected(wire, "InvalidArgument")


# --- S3 rules (normalize_path=False) ---------------------------------------------------------------


def test_s3_path_is_used_as_sent() -> None:
    url = "http://bucket.s3.rolehop.test/a//b/../c%20d/%24x"
    wire = sign("GET", url, service="s3", signer=S3SigV4Auth)
    assert verify(wire, normalize_path=False).service == "s3"
    rejected(wire, "SignatureDoesNotMatch", normalize_path=True)


def test_s3_presigned_url_signs_no_payload() -> None:
    url = "https://bucket.s3.rolehop.test/photos/a%20b.jpg"
    wire = presign(url, service="s3", signer=S3SigV4QueryAuth)
    assert verify(wire, normalize_path=False, now=SIGNED_AT + timedelta(minutes=59)).presigned


# --- the presigned query form ----------------------------------------------------------------------


def test_presigned_request_verifies_within_its_expiry() -> None:
    wire = presign(expires=3600)
    scope = verify(wire, now=SIGNED_AT + timedelta(minutes=45))
    assert scope.presigned
    assert scope.signed_headers == ("host",)
    assert scope.request_time == SIGNED_AT


def test_presigned_request_past_its_expiry_is_rejected() -> None:
    wire = presign(expires=60)
    assert verify(wire, now=SIGNED_AT + timedelta(seconds=60))
    error = rejected(wire, "SignatureDoesNotMatch", now=SIGNED_AT + timedelta(seconds=61))
    assert error.message.startswith("Request has expired")


def test_presigned_without_expires_gets_the_fifteen_minute_window() -> None:
    wire = presign()
    target = re.sub(r"&X-Amz-Expires=\d+", "", wire.target)  # the signature no longer matters
    error = rejected(
        replace(wire, target=target), "SignatureDoesNotMatch", now=SIGNED_AT + timedelta(minutes=16)
    )
    assert error.message.startswith("Signature expired: 20240501T120000Z is now earlier than")


def test_presigned_expiry_above_a_week_is_rejected() -> None:
    error = rejected(presign(expires=604801), "IncompleteSignature")
    assert error.status == 400
    assert "604800" in error.message
    assert verify(presign(expires=604800), now=SIGNED_AT + timedelta(days=6))


def test_presigned_from_the_future_is_rejected() -> None:
    rejected(presign(), "SignatureDoesNotMatch", now=SIGNED_AT - timedelta(minutes=16))


def test_presigned_session_token_is_surfaced() -> None:
    wire = presign(token=TOKEN)
    assert "X-Amz-Security-Token=" in wire.target
    assert verify(wire).security_token == TOKEN


def test_presigned_tampered_query_is_rejected() -> None:
    wire = presign()
    rejected(
        replace(wire, target=wire.target.replace("GetCallerIdentity", "GetSessionToken")),
        "SignatureDoesNotMatch",
    )


def test_presigned_tampered_signature_is_rejected() -> None:
    wire = presign()
    rejected(replace(wire, target=wire.target[:-1] + flip(wire.target[-1:])), "SignatureDoesNotMatch")


def test_presigned_missing_parameters_are_incomplete() -> None:
    wire = presign()
    target = re.sub(r"&X-Amz-(Signature|SignedHeaders)=[^&]*", "", wire.target)
    error = rejected(replace(wire, target=target), "IncompleteSignature")
    assert error.message == (
        "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must "
        "include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
    )


# --- malformed or missing authentication -----------------------------------------------------------


def test_no_authentication_at_all() -> None:
    wire = Wire("GET", "/?Action=GetCallerIdentity", [("Host", HOST)])
    error = rejected(wire, "MissingAuthenticationToken")
    assert error.message == "Request is missing Authentication Token"
    assert error.status == 403


def test_authorization_missing_parts_is_incomplete() -> None:
    wire = Wire("GET", "/", [("Host", HOST), ("Authorization", f"AWS4-HMAC-SHA256 Credential={AKID}")])
    error = rejected(wire, "IncompleteSignature")
    assert error.status == 400
    assert error.message == (
        "Authorization header requires 'Signature' parameter. Authorization header requires "
        "'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' "
        f"or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential={AKID}"
    )


def test_foreign_scheme_is_incomplete_without_echoing_its_credentials() -> None:
    wire = Wire("GET", "/", [("Host", HOST), ("Authorization", "Basic dXNlcjpwYXNzd29yZA==")])
    error = rejected(wire, "IncompleteSignature")
    assert error.message.endswith("Authorization=Basic")
    assert "dXNlcjpwYXNzd29yZA" not in error.message


def test_pair_without_equal_sign_is_incomplete() -> None:
    error = rejected(
        with_authorization(sign(), lambda v: v.replace("Credential=", "Credential ")), "IncompleteSignature"
    )
    assert "not a valid key=value pair (missing equal-sign)" in error.message


def test_unsupported_algorithm_is_incomplete() -> None:
    wire = with_authorization(sign(), lambda v: v.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"))
    assert rejected(wire, "IncompleteSignature").message == "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'."


def test_credential_with_four_parts_is_incomplete() -> None:
    wire = with_authorization(sign(), lambda v: v.replace("/us-east-1/", "/"))
    assert rejected(wire, "IncompleteSignature").message.startswith("Credential must have exactly 5")


def test_bad_terminator_does_not_match() -> None:
    wire = with_authorization(sign(), lambda v: v.replace("aws4_request", "aws5_request"))
    rejected(wire, "SignatureDoesNotMatch")


def test_bad_date_is_incomplete() -> None:
    wire = sign().header("X-Amz-Date", "2024-05-01 12:00")
    error = rejected(wire, "IncompleteSignature")
    assert error.message.startswith("Date must be in ISO-8601 'basic format'.")


def test_host_must_be_signed() -> None:
    wire = with_authorization(
        sign(), lambda v: v.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date")
    )
    error = rejected(wire, "SignatureDoesNotMatch")
    assert error.message == "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."


def test_header_and_query_forms_together_are_refused() -> None:
    wire = presign()
    both = wire.header("Authorization", sign().get("Authorization"))
    rejected(both, "SignatureDoesNotMatch")


# --- errors and caching ----------------------------------------------------------------------------


def test_signature_error_is_an_aws_error_with_code_and_status() -> None:
    error = SignatureError("SignatureDoesNotMatch", "nope")
    assert isinstance(error, AwsError)
    assert (error.code, error.status, error.sender) == ("SignatureDoesNotMatch", 403, True)
    assert error.message == "nope"
    assert SignatureError("IncompleteSignature", "x").status == 400


def test_scope_is_frozen() -> None:
    scope = verify(sign())
    with pytest.raises(FrozenInstanceError):
        scope.region = "eu-west-1"  # type: ignore[misc]


def test_signing_key_is_cached_and_bounded() -> None:
    _signing_key.cache_clear()
    verify(sign())
    verify(sign(body=b"other"))
    info = _signing_key.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)
    assert info.maxsize is not None


# --- properties ------------------------------------------------------------------------------------

_TOKEN_CHARS = string.ascii_lowercase + string.digits + "-"
header_names = st.text(_TOKEN_CHARS, min_size=1, max_size=12).map(lambda s: f"x-prop-{s}")
header_values = st.text(string.ascii_letters + string.digits + string.punctuation + " \t", max_size=40)
query_text = st.text(st.characters(codec="utf-8"), max_size=20)
# an operation parameter named like an auth parameter is not a request any client sends
query_keys = query_text.filter(lambda k: k and not k.lower().startswith("x-amz-"))


@settings(deadline=None, max_examples=150)
@given(
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    params=st.lists(st.tuples(query_keys, query_text), max_size=6),
    body=st.binary(max_size=64),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
)
def test_anything_botocore_signs_verifies(
    headers: list[tuple[str, str]], params: list[tuple[str, str]], body: bytes, method: str
) -> None:
    wire = sign(method, f"https://{HOST}/p/a%20t/h", headers=headers, params=params, body=body, token=TOKEN)
    assert verify(wire).security_token == TOKEN


@settings(deadline=None, max_examples=100)
@given(
    params=st.lists(st.tuples(query_keys, query_text), max_size=5),
    expires=st.integers(1, 604800),
)
def test_anything_botocore_presigns_verifies(params: list[tuple[str, str]], expires: int) -> None:
    url = f"https://{HOST}/"
    request = AWSRequest(method="GET", url=url, params=params)
    wire = presign(request.prepare().url, expires=expires)
    assert verify(wire, now=SIGNED_AT + timedelta(seconds=expires)).presigned


@settings(deadline=None, max_examples=200)
@given(index=st.integers(0, 63), replacement=st.sampled_from("0123456789abcdef"))
def test_any_single_character_change_to_the_signature_fails(index: int, replacement: str) -> None:
    wire = sign(body=b"Action=GetCallerIdentity&Version=2011-06-15", headers=[("Content-Type", FORM)])
    authorization = wire.get("Authorization")
    signature = authorization[-64:]
    if signature[index] == replacement:
        replacement = "f" if replacement != "f" else "e"
    changed = signature[:index] + replacement + signature[index + 1 :]
    rejected(wire.header("Authorization", authorization[:-64] + changed), "SignatureDoesNotMatch")


garbage = st.text(max_size=40)
authorizations = st.one_of(
    st.none(),
    garbage,
    st.builds(
        "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}".format,
        st.one_of(garbage, st.just(f"{AKID}/20240501/us-east-1/sts/aws4_request")),
        st.one_of(garbage, st.just("host;x-amz-date")),
        garbage,
    ),
)
targets = st.one_of(garbage, st.builds("/?X-Amz-Algorithm=AWS4-HMAC-SHA256&{}".format, garbage))


@settings(deadline=None, max_examples=300)
@given(
    target=targets,
    authorization=authorizations,
    date=st.one_of(st.none(), garbage, st.just("20240501T120000Z"), st.just("Wed, 01 May 2024 12:00:00 GMT")),
    extra=st.lists(st.tuples(garbage, garbage), max_size=3),
)
def test_garbage_is_refused_with_a_signature_error(
    target: str, authorization: str | None, date: str | None, extra: list[tuple[str, str]]
) -> None:
    headers = [("Host", HOST), *extra]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    if date is not None:
        headers.append(("X-Amz-Date", date))
    with pytest.raises(SignatureError):
        verify(Wire("POST", target, headers, b"body"))
