"""Organizations' MaxResults/NextToken paging, the same for every List operation.

MaxResults is 1..20 in AWS's model; without it a page holds 20 (AWS documents only that a page may
hold fewer than asked, and that NextToken is the one sign of more). The token is the sort key of
the page's last item, opaque to the client; one that does not decode is InvalidInputException with
AWS's reason INVALID_NEXT_TOKEN.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rolehop.core.errors import InvalidInputException

T = TypeVar("T")

DEFAULT_PAGE = 20


def page(
    items: Sequence[T], params: dict[str, Any], key: Callable[[T], str]
) -> tuple[list[T], dict[str, Any]]:
    """The page of `items` (sorted here by `key`) that the request asks for, and the NextToken member
    of the response ({} on the last page)."""
    ordered = sorted(items, key=key)
    size = int(params.get("MaxResults") or DEFAULT_PAGE)
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            after = ""
        if not after:  # no page ends with an empty key: the token was not ours
            raise InvalidInputException("The provided token is invalid.", reason="INVALID_NEXT_TOKEN")
        while start < len(ordered) and key(ordered[start]) <= after:
            start += 1
    found = ordered[start : start + size]
    if start + size < len(ordered):
        return found, {"NextToken": base64.urlsafe_b64encode(key(found[-1]).encode()).decode()}
    return found, {}
