"""The AWS API over ASGI: Query (IAM, STS) and JSON 1.1 (Organizations, CloudTrail) on one endpoint.

A request is authenticated (SigV4), routed by its credential scope's service and its Action or
X-Amz-Target, decoded by botocore's model of the operation, handled by the service function named
after it, and answered in that protocol's shape. Every failure is an AWS-shaped error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from rolehop.core.errors import (
    AwsError,
    InternalFailure,
    InvalidAction,
    InvalidSignatureException,
    MalformedQueryString,
    RequestEntityTooLarge,
    SignatureDoesNotMatch,
    Throttling,
    TooManyRequestsException,
    UnknownOperationException,
)
from rolehop.services.cloudtrail import lookup_events
from rolehop.services.pipeline.authenticate import authenticate, check_session_scope
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.perform import perform
from rolehop.services.pipeline.registry import OPERATIONS
from rolehop.services.pipeline.request_rate import RequestRates
from rolehop.services.pipeline.runtime import Runtime
from rolehop.wire import json_protocol, query
from rolehop.wire.models import operation_model

log = logging.getLogger("rolehop.api")

MAX_BODY = 1 << 20
JSON_TARGETS = {
    "AWSOrganizationsV20161128": "organizations",
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101": "cloudtrail",
}
# JSON services whose operations answer a member's broken constraint with errors of their own
# (CloudTrail's LookupEvents: InvalidMaxResultsException…), not the protocol's ValidationException
_MEMBER_ERRORS: dict[str, json_protocol.MemberError] = {"cloudtrail": lookup_events.input_error}
QUERY_SERVICES = ("iam", "sts")
# presigned requests carry these next to the operation's own parameters
_SIGNING_PARAMS = frozenset(
    {
        "Action",
        "Version",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    }
)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes
    # the connection's address and scheme, or a named proxy's word for them (wire.forwarded): what
    # aws:SourceIp, aws:SecureTransport and the throttles see, never a client's own X-Forwarded-*
    client_ip: str
    secure: bool
    # the buckets this request has already taken a token from: the STS hot path may run a request
    # twice (offload), and it must not cost twice
    charged: set[str] = field(default_factory=set, compare=False, repr=False)

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query_string if self.query_string else "")

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


@dataclass(slots=True)
class Seen:
    """What the edge logs and measures about one API request, filled in as it is understood. The
    service and operation are only ever names the registry knows: a client's made-up Action must not
    become a metric label (one time series per distinct string)."""

    request_id: str = ""
    service: str = "unknown"
    operation: str = "unknown"
    principal: str = ""
    error: str = ""

    def name(self, service: str, operation: str | None) -> None:
        if operation and (service, operation) in OPERATIONS:
            self.service, self.operation = service, operation


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


def is_api_request(req: HttpRequest) -> bool:
    """DESIGN.md: SigV4, an Action parameter or X-Amz-Target make a request the API's."""
    if req.header("x-amz-target") or (req.header("authorization") or "").startswith("AWS4-"):
        return True
    params = dict(parse_qsl(req.query_string))
    if "Action" in params or "X-Amz-Credential" in params:
        return True
    return req.method == "POST" and b"Action=" in req.body[:4096] and _is_form(req)


def _is_form(req: HttpRequest) -> bool:
    return (req.header("content-type") or "").startswith("application/x-www-form-urlencoded")


def _form_params(req: HttpRequest) -> dict[str, str]:
    try:
        pairs = parse_qsl(req.query_string, keep_blank_values=True, strict_parsing=False)
        if req.method == "POST" and _is_form(req):
            pairs += parse_qsl(req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as e:
        raise MalformedQueryString("The query string is malformed.") from e
    return dict(pairs)


RATE_EXCEEDED = "Rate exceeded"  # AWS's message with either code


class Api:
    def __init__(self, runtime: Runtime, rates: RequestRates | None = None) -> None:
        self.rt = runtime
        self.rates = rates or RequestRates()

    def handle(self, req: HttpRequest, seen: Seen | None = None) -> HttpResponse:
        request_id = str(uuid.uuid4())
        seen = seen or Seen()
        seen.request_id = request_id
        target = req.header("x-amz-target")
        try:
            if len(req.body) > MAX_BODY:
                raise RequestEntityTooLarge("Request body too large")
            self.charge_source(req)
            if target:
                return self._json(req, target, request_id, seen)
            return self._query(req, request_id, seen)
        except AwsError as e:
            seen.error = e.code
            return self._error(e, request_id, req)
        except Exception:  # a bug must still answer like AWS, without details
            log.exception("internal failure, request %s", request_id)
            seen.error = "InternalFailure"
            return self._error(
                InternalFailure("We encountered an internal error. Please try again."), request_id, req
            )

    def _call(self, req: HttpRequest, request_id: str, seen: Seen) -> tuple[Call, str]:
        caller, scope = authenticate(self.rt, req.method, req.target, req.headers, req.body)
        seen.principal = caller.arn
        call = Call(
            runtime=self.rt,
            caller=caller,
            request_id=request_id,
            now=self.rt.clock(),
            service=scope.service,
            region=scope.region,
            source_ip=req.client_ip,
            secure_transport=req.secure,
            user_agent=(req.header("user-agent") or "")[:1024],
        )
        self.charge_principal(req, caller.arn)
        return call, scope.service

    def charge_source(self, req: HttpRequest) -> None:
        """Before authentication: a flood of forged requests costs no signature check, no store read."""
        self._take(req, "source:" + req.client_ip, self.rates.source_allowed, req.client_ip)

    def charge_principal(self, req: HttpRequest, principal_arn: str) -> None:
        self._take(req, "principal:" + principal_arn, self.rates.principal_allowed, principal_arn)

    def _take(
        self, req: HttpRequest, bucket: str, allowed: Callable[[str, datetime], bool], key: str
    ) -> None:
        """A token from `key`'s bucket, once per request; the service's throttling error without one."""
        if bucket in req.charged:
            return
        if not allowed(key, self.rt.clock()):
            raise (
                TooManyRequestsException(RATE_EXCEEDED)
                if req.header("x-amz-target")
                else Throttling(RATE_EXCEEDED)
            )
        req.charged.add(bucket)

    def _query(self, req: HttpRequest, request_id: str, seen: Seen) -> HttpResponse:
        params = _form_params(req)
        action = params.get("Action")
        seen.name(_scoped_service(req), action)
        call, service = self._call(req, request_id, seen)
        if service not in QUERY_SERVICES:
            # AWS's answer to a credential scope naming another service
            raise SignatureDoesNotMatch("Credential should be scoped to a valid service: 'iam' or 'sts'.")
        if not action:
            raise InvalidAction("Missing Action")
        model = operation_model(service, action)
        if (service, action) not in OPERATIONS:
            raise InvalidAction(f"The action {action} is not supported by rolehop.")

        def decode() -> dict[str, Any]:
            check_session_scope(call.caller, service, action)
            return query.parse_query(model, {k: v for k, v in params.items() if k not in _SIGNING_PARAMS})

        result = perform(call, action, decode)
        body = query.serialize_query_response(model, result, request_id)
        return HttpResponse(200, body, [("content-type", "text/xml"), ("x-amzn-RequestId", request_id)])

    def _json(self, req: HttpRequest, target: str, request_id: str, seen: Seen) -> HttpResponse:
        prefix, _, action = target.rpartition(".")
        service = JSON_TARGETS.get(prefix)
        if service is None:
            raise UnknownOperationException(f"Unknown target {target}")
        seen.name(service, action)
        call, scoped = self._call(req, request_id, seen)
        if scoped != service:
            raise InvalidSignatureException(f"Credential should be scoped to correct service: '{service}'.")
        model = operation_model(service, action)
        if (service, action) not in OPERATIONS:
            raise UnknownOperationException(f"The operation {action} is not supported by rolehop.")
        member_error = _MEMBER_ERRORS.get(service)
        result = perform(
            call, action, lambda: json_protocol.parse_json(model, req.body, member_error=member_error)
        )
        body = json_protocol.serialize_json_response(model, result)
        return HttpResponse(
            200, body, [("content-type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)]
        )

    def _error(self, e: AwsError, request_id: str, req: HttpRequest) -> HttpResponse:
        target = req.header("x-amz-target")
        if target:
            service = JSON_TARGETS.get(target.rpartition(".")[0], "")
            code = _JSON_SERVICE_CODES.get(service, {}).get(e.code) or _JSON_CODES.get(e.code, e.code)
            body, headers = json_protocol.serialize_json_error(code, e.message, fields=e.fields)
            return HttpResponse(e.status, body, [*headers.items(), ("x-amzn-RequestId", request_id)])
        xmlns = _XMLNS.get(_scoped_service(req), query.IAM_XMLNS)
        body = query.serialize_query_error(
            e.code, e.message, sender=e.sender, request_id=request_id, xmlns=xmlns
        )
        return HttpResponse(e.status, body, [("content-type", "text/xml"), ("x-amzn-RequestId", request_id)])


# JSON services spell the common errors with an Exception suffix
_JSON_CODES = {
    "AccessDenied": "AccessDeniedException",
    "InternalFailure": "ServiceException",
    # Organizations' model has no ServiceUnavailable: its ServiceException ("try again later"), 503
    "ServiceUnavailable": "ServiceException",
    "ConcurrentModification": "ConcurrentModificationException",
}
# ... and where a service's model or common errors spell them otherwise. CloudTrail has no
# ServiceException: its common errors are InternalFailure and ServiceUnavailable as they are, and
# its throttling code is ThrottlingException (CloudTrail API reference, Common Errors)
_JSON_SERVICE_CODES = {
    "cloudtrail": {
        "InternalFailure": "InternalFailure",
        "ServiceUnavailable": "ServiceUnavailable",
        "TooManyRequestsException": "ThrottlingException",
    },
}
_XMLNS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


def _scoped_service(req: HttpRequest) -> str:
    """The service named by the credential scope (…/date/region/SERVICE/aws4_request), if any."""
    credential = req.header("authorization") or ""
    if "Credential=" not in credential:
        credential = dict(parse_qsl(req.query_string)).get("X-Amz-Credential", "")
    parts = credential.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return parts[3].strip() if len(parts) >= 5 else ""


def header_pairs(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
