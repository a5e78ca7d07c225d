"""Limits on what a request may make the server read, checked before routing, beside the body's
(MAX_BODY in wire.api, read in app): the query string, the number and size of headers, and the
smaller body a console form may have. Each answer closes the connection: what follows is not read.

The sizes are those of AWS's own front door (Application Load Balancer: a 16 KiB request line, 64 KiB
of headers in all); the header count is Apache's default (LimitRequestFields). Nothing legitimate
comes near them: a federation sign-in URL is a few KiB, boto3 sends about ten headers.
"""

from __future__ import annotations

import json

from rolehop.wire.api import HttpResponse

MAX_QUERY = 16 * 1024
MAX_HEADERS = 100
MAX_HEADER_BYTES = 64 * 1024
# a console form: 50 fields (console.web) of at most 4,096 characters each are kept, so a larger body
# is nobody's form; a 4 KiB policy document is 12 KiB once URL-encoded
MAX_CONSOLE_BODY = 64 * 1024


def head_refused(query_string: bytes, headers: list[tuple[bytes, bytes]]) -> HttpResponse | None:
    """414 or 431 when the request line or headers pass their limit, else None."""
    if len(query_string) > MAX_QUERY:
        return refusal(414, f"query string longer than {MAX_QUERY} bytes")
    if len(headers) > MAX_HEADERS:
        return refusal(431, f"more than {MAX_HEADERS} header fields")
    if sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES:
        return refusal(431, f"header fields larger than {MAX_HEADER_BYTES} bytes in all")
    return None


def console_body_refused(body: bytes) -> HttpResponse | None:
    if len(body) > MAX_CONSOLE_BODY:
        return refusal(413, f"form larger than {MAX_CONSOLE_BODY} bytes")
    return None


def refusal(status: int, reason: str) -> HttpResponse:
    body = json.dumps({"error": reason}).encode()
    return HttpResponse(status, body, [("content-type", "application/json"), ("connection", "close")])
