"""AWS Signature Version 4 request verification: the Authorization header and presigned query forms.

Pure: no I/O and no clock. The caller passes the request as received and `now`; we rebuild the
canonical request the way AWS services and botocore do, derive the signing key from the secret the
caller looks up, and compare signatures in constant time. Every failure raises `SignatureError`
carrying the AWS error code; nothing returns False.

Messages follow AWS's wording (as seen in SDK issue reports and the scratchstack-aws-signature
reverse-engineering of AWS's error ordering), except that we never echo another auth scheme's
credentials back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote, unquote_to_bytes

from rolehop.core.errors import SignatureError

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 604800  # seven days: a signing key is only valid that long
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_UNSIGNED = frozenset({UNSIGNED_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
_S3_SERVICES = frozenset({"s3", "s3-object-lambda", "s3-outposts"})  # S3's presigned-URL payload rule
_ENC = "surrogatepass"  # odd input must fail the signature check, never crash the server


_MSG_NO_AUTH = "Request is missing Authentication Token"
_MSG_UNKNOWN_KEY = "The security token included in the request is invalid."
_MSG_HOST = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
_MSG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)
_HEADER_PARTS = ("Credential", "Signature", "SignedHeaders")  # AWS reports them in this order
_QUERY_PARTS = ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date")

_plain = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch
_iso_basic = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z").fullmatch
_hex64 = re.compile(r"[0-9A-Fa-f]{64}").fullmatch


@dataclass(frozen=True, slots=True)
class SigV4Scope:
    """What a verified request proved: who signed it, for which scope, and when."""

    access_key_id: str
    date: str  # YYYYMMDD from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    security_token: str | None = field(repr=False)  # the server validates it, not this module
    request_time: datetime
    presigned: bool


@dataclass(frozen=True, slots=True)
class _Claim:
    """The authentication parameters a request carries, before any of them is trusted."""

    credential: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    expires: int | None  # X-Amz-Expires; None for the header form
    security_token: str | None
    presigned: bool


def verify_request(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    secret_for: Callable[[str], str | None],
    now: datetime,
    normalize_path: bool = True,
) -> SigV4Scope:
    """Verify a SigV4-signed request and return its scope; raise SignatureError otherwise.

    `target` is the request-target as sent (path and raw query), `headers` the header lines as
    received (any case, untrimmed, repeats allowed). `normalize_path=False` is S3's rule: the path is
    used as sent, without dot-segment removal. A naive `now` is taken as UTC.
    """
    path, _, raw_query = target.partition("?")
    header_map = _header_map(headers)
    pairs = _query_pairs(raw_query)
    params = _first_values(pairs)
    claim = _read_claim(header_map, params)
    if "host" not in claim.signed_headers:
        raise SignatureError("SignatureDoesNotMatch", _MSG_HOST)
    request_time = _parse_time(claim.timestamp)
    access_key_id, date, region, service = _parse_credential(claim.credential, request_time)
    _check_time(request_time, _as_utc(now), claim.expires)
    secret = secret_for(access_key_id)
    if secret is None:
        raise SignatureError("InvalidClientTokenId", _MSG_UNKNOWN_KEY)

    s3_presigned = claim.presigned and service in _S3_SERVICES
    payload_hash, declared = _payload_hash(header_map, params, body, s3_presigned)
    canonical = _canonical_request(method, path, pairs, header_map, claim, payload_hash, normalize_path)
    scope = f"{date}/{region}/{service}/{TERMINATOR}"
    string_to_sign = f"{ALGORITHM}\n{_iso(request_time)}\n{scope}\n{_sha256_hex(canonical)}"
    if not _signature_matches(_signing_key(secret, date, region, service), string_to_sign, claim.signature):
        raise SignatureError("SignatureDoesNotMatch", _MSG_MISMATCH)
    if declared and payload_hash not in _UNSIGNED and payload_hash.lower() != _sha256_hex(body):
        # the signature covers the declared hash only, so the body must match it too (S3's check)
        raise SignatureError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return SigV4Scope(
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        signed_headers=claim.signed_headers,
        security_token=claim.security_token,
        request_time=request_time,
        presigned=claim.presigned,
    )


# --- reading what the request claims -------------------------------------------------------------


def _read_claim(header_map: dict[str, list[str]], params: dict[str, str]) -> _Claim:
    authorization = _first(header_map, "authorization")
    algorithm = params.get("X-Amz-Algorithm")
    if authorization is not None and algorithm is not None:
        # AWS refuses a request carrying both forms rather than picking one
        raise SignatureError(
            "SignatureDoesNotMatch",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
            "Authorization header should be specified.",
        )
    if authorization is not None:
        return _claim_from_header(authorization, header_map, params)
    if algorithm is not None:
        return _claim_from_query(algorithm, header_map, params)
    raise SignatureError("MissingAuthenticationToken", _MSG_NO_AUTH)


def _claim_from_header(value: str, header_map: dict[str, list[str]], params: dict[str, str]) -> _Claim:
    scheme, _, rest = value.partition(" ")
    if scheme != ALGORITHM and scheme.startswith("AWS4-"):
        raise _incomplete(f"Unsupported AWS 'algorithm': '{scheme}'.")
    shown = value if scheme == ALGORITHM else scheme  # never echo another scheme's credentials
    fields = _auth_fields(rest, shown) if scheme == ALGORITHM else {}
    timestamp = _first(header_map, "x-amz-date") or _first(header_map, "date")
    missing = [
        f"Authorization header requires '{name}' parameter." for name in _HEADER_PARTS if name not in fields
    ]
    if not timestamp:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing or timestamp is None:
        raise _incomplete(f"{' '.join(missing)} Authorization={shown}")
    token = _first(header_map, "x-amz-security-token") or _decoded(params, "X-Amz-Security-Token")
    return _Claim(
        credential=fields["Credential"],
        signed_headers=_signed_list(fields["SignedHeaders"]),
        signature=fields["Signature"],
        timestamp=timestamp,
        expires=None,
        security_token=token or None,
        presigned=False,
    )


def _auth_fields(rest: str, shown: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for raw in rest.split(","):
        item = raw.strip()
        if not item:
            continue
        key, equals, value = item.partition("=")
        if not equals:
            raise _incomplete(
                f"'{item}' not a valid key=value pair (missing equal-sign) in Authorization header: '{shown}'"
            )
        fields[key.strip()] = value.strip()  # a repeated key: the last one wins, as at AWS
    return fields


def _claim_from_query(algorithm: str, header_map: dict[str, list[str]], params: dict[str, str]) -> _Claim:
    if algorithm != ALGORITHM:
        # AWS treats a foreign algorithm as no authentication at all
        raise SignatureError("MissingAuthenticationToken", _MSG_NO_AUTH)
    missing = [
        f"AWS query-string parameters must include '{name}'." for name in _QUERY_PARTS if name not in params
    ]
    if missing:
        raise _incomplete(f"{' '.join(missing)} Re-examine the query-string parameters.")
    token = _decoded(params, "X-Amz-Security-Token") or _first(header_map, "x-amz-security-token")
    return _Claim(
        credential=unquote(params["X-Amz-Credential"]),
        signed_headers=_signed_list(unquote(params["X-Amz-SignedHeaders"])),
        signature=unquote(params["X-Amz-Signature"]),
        timestamp=unquote(params["X-Amz-Date"]),
        expires=_parse_expires(params.get("X-Amz-Expires")),
        security_token=token or None,
        presigned=True,
    )


def _parse_expires(raw: str | None) -> int | None:
    if raw is None:
        return None  # the 15-minute window applies, as STS applies it to every URL (aws-sdk-go#2167)
    text = unquote(raw)
    if not (text.isascii() and text.isdigit()):
        raise _incomplete("X-Amz-Expires should be a number")
    if len(text) > 6 or int(text) > MAX_PRESIGN_EXPIRES:
        raise _incomplete(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
            f"must be less than {MAX_PRESIGN_EXPIRES} seconds"
        )
    return int(text)


def _signed_list(text: str) -> tuple[str, ...]:
    return tuple(sorted(text.split(";")))  # AWS sorts the list before building the canonical form


def _parse_time(text: str) -> datetime:
    match = _iso_basic(text)
    try:
        if match:
            year, month, day, hour, minute, second = (int(g) for g in match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        parsed = parsedate_to_datetime(text)  # a Date header in HTTP-date form
    except (TypeError, ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise _incomplete(
            f"Date must be in ISO-8601 'basic format'. Got '{text}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )
    return _as_utc(parsed)


SCOPE_PART_MAX = 64  # AWS region and service names are far shorter


def _parse_credential(credential: str, request_time: datetime) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5:
        raise _incomplete(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'"
        )
    access_key_id, date, region, service, terminator = parts
    problems = []
    if terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )
    request_date = request_time.strftime("%Y%m%d")
    if date != request_date:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{date}' != '{request_date}', from '{_iso(request_time)}'."
        )
    if len(region) > SCOPE_PART_MAX or len(service) > SCOPE_PART_MAX or "\x00" in region + service:
        # signing keys are cached per scope: unbounded parts would let a caller pin memory; the
        # scope is also recorded as a key's last use, and no store keeps a NUL
        problems.append("Credential should be scoped to a valid region and service.")
    if problems:
        raise SignatureError("SignatureDoesNotMatch", " ".join(problems))
    return access_key_id, date, region, service


def _check_time(request_time: datetime, now: datetime, expires: int | None) -> None:
    if request_time - now > MAX_SKEW:
        raise SignatureError(
            "SignatureDoesNotMatch",
            f"Signature not yet current: {_iso(request_time)} is still later than "
            f"{_iso(now + MAX_SKEW)} ({_iso(now)} + 15 min.)",
        )
    if expires is None:
        if now - request_time > MAX_SKEW:
            raise SignatureError(
                "SignatureDoesNotMatch",
                f"Signature expired: {_iso(request_time)} is now earlier than "
                f"{_iso(now - MAX_SKEW)} ({_iso(now)} - 15 min.)",
            )
    elif now - request_time > timedelta(seconds=expires):
        # Code: STS/IAM answer every expired signature with SignatureDoesNotMatch (aws-cli#6676; STS
        # ignores X-Amz-Expires, aws-sdk-go#2167). Text: S3's "Request has expired" for this case.
        raise SignatureError(
            "SignatureDoesNotMatch",
            f"Request has expired (X-Amz-Date {_iso(request_time)}, X-Amz-Expires {expires}, "
            f"server time {_iso(now)}).",
        )


# --- canonical request ----------------------------------------------------------------------------


def _canonical_request(
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    header_map: dict[str, list[str]],
    claim: _Claim,
    payload_hash: str,
    normalize_path: bool,
) -> bytes:
    text = "\n".join(
        (
            method,
            _canonical_uri(path, normalize_path),
            _canonical_query(pairs, claim.presigned),
            _canonical_headers(header_map, claim.signed_headers),
            ";".join(claim.signed_headers),
            payload_hash,
        )
    )
    return text.encode("utf-8", _ENC)


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in headers:
        found.setdefault(name.lower(), []).append(value)
    return found


def _first(header_map: dict[str, list[str]], name: str) -> str | None:
    values = header_map.get(name)
    return values[0].strip() if values else None  # AWS reads the first of repeated auth headers


def _canonical_headers(header_map: dict[str, list[str]], names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        values = header_map.get(name)
        if values is not None:  # a signed header that never arrived cannot match: leave it out
            lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
    return "".join(lines)


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for piece in raw_query.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            pairs.append((_encode(key), _encode(value)))
    return pairs


def _encode(component: str) -> str:
    """Decode a query key or value as sent, then percent-encode it the SigV4 way."""
    if _plain(component):
        return component
    # '+' is a space here, as the form parser behind us reads it and as botocore's urlencode sends it
    raw = unquote_to_bytes(component.replace("+", " ").encode("utf-8", _ENC))
    return quote(raw, safe="-_.~")


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key, value)  # repeated auth parameters: AWS reads the first
    return params


def _decoded(params: dict[str, str], name: str) -> str | None:
    value = params.get(name)
    return None if value is None else unquote(value)


def _canonical_query(pairs: list[tuple[str, str]], presigned: bool) -> str:
    kept = sorted(p for p in pairs if not (presigned and p[0] == "X-Amz-Signature"))
    return "&".join(f"{key}={value}" for key, value in kept)


def _canonical_uri(path: str, normalize: bool) -> str:
    if path == "/":
        return path
    if not normalize:
        # S3: the path as sent; only bytes that were never escaped get escaped
        return quote(path, safe="/~%", errors=_ENC) or "/"
    return quote(_remove_dot_segments(path), safe="/~", errors=_ENC)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal plus collapsing repeated slashes, as AWS services expect."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    lead = "/" if path.startswith("/") or not path else ""
    trail = "/" if path.endswith("/") and kept else ""
    return lead + "/".join(kept) + trail


def _payload_hash(
    header_map: dict[str, list[str]], params: dict[str, str], body: bytes, s3_presigned: bool
) -> tuple[str, bool]:
    """The payload hash to sign and whether the request declared it (rather than us computing it)."""
    declared = _first(header_map, "x-amz-content-sha256")
    if declared is None and s3_presigned:
        # an S3 presigned URL signs no payload, unless the URL itself declares one
        in_query = _decoded(params, "X-Amz-Content-Sha256")
        declared = UNSIGNED_PAYLOAD if in_query is None else in_query
    if declared is None:
        return _sha256_hex(body), False
    if declared not in _UNSIGNED and not _hex64(declared):
        # chunk-signed uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD…) would need every chunk checked
        raise SignatureError(
            "InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a "
            "SHA-256 hex digest; chunk-signed payloads are not supported.",
        )
    return declared, True


# --- small helpers --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning; cached because deriving it costs four HMACs and a key signs all day."""
    key = hmac.digest(f"AWS4{secret}".encode("utf-8", _ENC), date.encode("utf-8", _ENC), "sha256")
    for part in (region, service, TERMINATOR):
        key = hmac.digest(key, part.encode("utf-8", _ENC), "sha256")
    return key


def _signature_matches(key: bytes, string_to_sign: str, signature: str) -> bool:
    expected = hmac.digest(key, string_to_sign.encode("utf-8", _ENC), "sha256").hex()
    return signature.isascii() and hmac.compare_digest(expected, signature)  # str compare needs ASCII


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _incomplete(message: str) -> SignatureError:
    return SignatureError("IncompleteSignature", message)
