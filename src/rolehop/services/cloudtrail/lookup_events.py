"""CloudTrail's LookupEvents: an account's event history, newest first.

At most one lookup attribute (as AWS allows: EventId, EventName, ReadOnly, Username, ResourceType,
ResourceName, EventSource, AccessKeyId, each an exact, case-sensitive match), StartTime and EndTime
(both inclusive), MaxResults 1-50 (default 50) and an opaque NextToken: the position after the last
event returned, bound to the query it was issued for. EventCategory "insight" asks for Insights
events, which rolehop does not produce: an empty page.

Each account sees its own events (those whose recipientAccountId is the caller's account), as in
CloudTrail's event history. `lookup` is the same query for the console's Event history page, where
the management account may also see every account's events when the operator opts in
(`serve --audit-org-view`); it is authorized by cloudtrail:LookupEvents all the same.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rolehop.core.bounded_json import load_json
from rolehop.core.errors import (
    ClientError,
    InvalidEventCategoryException,
    InvalidLookupAttributesException,
    InvalidMaxResultsException,
    InvalidNextTokenException,
    InvalidTimeRangeException,
    OperationNotPermittedException,
)
from rolehop.core.trail_chain import canonical
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.trail import EventQuery, StoredEvent

ATTRIBUTES = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
INSIGHT = "insight"  # the one EventCategory the API knows (management events are asked for by omitting it)
MAX_RESULTS = 50
VALUE_MAX = 2000  # LookupAttributeValue's length limit
TOKEN_MAX = 1024  # a token rolehop issues is ~150 characters; anything much longer is not one

ONE_ATTRIBUTE = "You can specify only one lookup attribute."
BAD_KEY = "Lookup attribute key is not valid."
BAD_VALUE = "Lookup attribute value is not valid."
BAD_RANGE = "Start time cannot be after end time."
BAD_TOKEN = "The NextToken is not valid, or was issued for a request with other parameters."
BAD_CATEGORY = "Event category is not valid. The valid value is insight."
NO_ORG_VIEW = (
    "The organization's event history is not enabled, or the caller is not in the management account."
)


def max_results_message(value: object) -> str:
    return f"A max results value of {value} is invalid. Specify max results between 1 and {MAX_RESULTS}."


def input_error(member: str, value: str | None) -> ClientError | None:
    """CloudTrail's own error for a LookupEvents member that breaks its model's constraints (the JSON
    codec asks, by the violated member's lowerCamel path, e.g. `lookupAttributes.1.member.attributeKey`);
    None for any other member, which keeps the protocol's ValidationException."""
    top, _, rest = member.partition(".")
    if top == "maxResults":
        return InvalidMaxResultsException(max_results_message(value))
    if top == "eventCategory":
        return InvalidEventCategoryException(BAD_CATEGORY)
    if top == "lookupAttributes":
        return InvalidLookupAttributesException(BAD_KEY if rest.endswith("attributeKey") else BAD_VALUE)
    if top == "nextToken":
        return InvalidNextTokenException(BAD_TOKEN)
    return None


def event_shape(stored: StoredEvent) -> dict[str, Any]:
    """One Event of LookupEvents' response."""
    event = stored.event
    shape: dict[str, Any] = {
        "EventId": event.event_id,
        "EventName": event.event_name,
        "ReadOnly": "true" if event.read_only else "false",
        "EventTime": event.event_time,
        "EventSource": event.event_source,
        "Resources": [{"ResourceType": r.type, "ResourceName": r.name} for r in event.resources],
        "CloudTrailEvent": event.record,
    }
    if event.access_key_id:
        shape["AccessKeyId"] = event.access_key_id
    if event.username:
        shape["Username"] = event.username
    return shape


@operation("cloudtrail", "LookupEvents")
def lookup_events(call: Call, params: Params) -> Result:
    given = params.get("LookupAttributes") or []
    attributes = [(a.get("AttributeKey"), a.get("AttributeValue")) for a in given]
    events, token = _search(
        call,
        attributes,
        start=params.get("StartTime"),
        end=params.get("EndTime"),
        category=params.get("EventCategory"),
        max_results=params.get("MaxResults"),
        next_token=params.get("NextToken"),
    )
    result: Result = {"Events": [event_shape(e) for e in events]}
    if token is not None:
        result["NextToken"] = token
    return result


def lookup(
    call: Call,
    *,
    attribute: str | None,
    value: str | None,
    start: datetime | None,
    end: datetime | None,
    category: str | None,
    max_results: int | None,
    next_token: str | None,
    organization: bool = False,
) -> tuple[list[StoredEvent], str | None]:
    """LookupEvents for the console: the same checks, errors and paging, on the caller's account's
    events, or (`organization`) every account's, when the operator allows it and the caller is in the
    management account."""
    attributes = [] if attribute is None and value is None else [(attribute, value)]
    return _search(
        call,
        attributes,
        start=start,
        end=end,
        category=category,
        max_results=max_results,
        next_token=next_token,
        organization=organization,
    )


def _search(
    call: Call,
    attributes: Sequence[tuple[str | None, str | None]],
    *,
    start: datetime | None,
    end: datetime | None,
    category: str | None,
    max_results: int | None,
    next_token: str | None,
    organization: bool = False,
) -> tuple[list[StoredEvent], str | None]:
    authorize(call, "cloudtrail:LookupEvents", "*")
    accounts = _accounts(call, organization)
    if len(attributes) > 1:
        raise InvalidLookupAttributesException(ONE_ATTRIBUTE)
    attribute, value = _attribute(*attributes[0]) if attributes else (None, None)
    limit = MAX_RESULTS if max_results is None else max_results
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidMaxResultsException(max_results_message(limit))
    if category is not None and category != INSIGHT:
        raise InvalidEventCategoryException(BAD_CATEGORY)
    start, end = _utc(start), _utc(end)
    if start is not None and end is not None and start > end:
        raise InvalidTimeRangeException(BAD_RANGE)
    query_key = _query_key(attribute, value, start, end, category, accounts)
    after = None if next_token is None else _position(next_token, query_key)
    if category == INSIGHT:
        return [], None  # rolehop records management events only
    call.runtime.trail.flush()  # this node's batched records first: every earlier call is seen
    query = EventQuery(accounts, attribute, value, start, end, after, limit=limit + 1)
    with call.runtime.store.transaction() as tx:
        found = tx.lookup_events(query)
    page = found[:limit]
    return page, (_token(page[-1], query_key) if len(found) > limit else None)


def _utc(moment: datetime | None) -> datetime | None:
    """A time the console may give without a zone is UTC's, as every time rolehop keeps."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _accounts(call: Call, organization: bool) -> tuple[str, ...] | None:
    if not organization:
        return (call.caller.account_id,)
    settings = call.runtime.settings
    if not settings.audit_org_view or call.caller.account_id != settings.management_account_id:
        raise OperationNotPermittedException(NO_ORG_VIEW)
    return None


def _attribute(key: str | None, value: str | None) -> tuple[str, str]:
    if key not in ATTRIBUTES or key is None:
        raise InvalidLookupAttributesException(BAD_KEY)
    if value is None or not 1 <= len(value) <= VALUE_MAX or "\x00" in value:
        raise InvalidLookupAttributesException(BAD_VALUE)
    if key == "ReadOnly":
        if value.lower() not in ("true", "false"):
            raise InvalidLookupAttributesException(BAD_VALUE)
        value = value.lower()
    return key, value


# --- NextToken: where the previous page ended, and which query it belongs to ---------------------


def _query_key(
    attribute: str | None,
    value: str | None,
    start: datetime | None,
    end: datetime | None,
    category: str | None,
    accounts: tuple[str, ...] | None,
) -> str:
    """What a token is bound to: AWS refuses a token "used in a request with different parameters"."""
    text = canonical([attribute, value, start, end, category, accounts])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(last: StoredEvent, query_key: str) -> str:
    position = [last.event.event_time.isoformat(), last.chain_id, last.seq, query_key]
    return base64.urlsafe_b64encode(canonical(position).encode()).decode().rstrip("=")


def _position(token: str, query_key: str) -> tuple[datetime, str, int]:
    try:
        if len(token) > TOKEN_MAX:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        at, chain_id, seq, key = load_json(raw)
        moment = datetime.fromisoformat(at)
        if (
            moment.tzinfo is None
            or not isinstance(chain_id, str)
            or len(chain_id) > 64
            or "\x00" in chain_id
            or not isinstance(seq, int)
            or isinstance(seq, bool)
            or not 0 < seq < 2**63
        ):
            raise ValueError("not a position")
    except (ValueError, TypeError, binascii.Error):
        raise InvalidNextTokenException(BAD_TOKEN) from None
    if key != query_key:
        raise InvalidNextTokenException(BAD_TOKEN)
    return moment, chain_id, seq
