"""CloudTrail's Event history: the account's events, newest first, with LookupEvents' filters (one
lookup attribute and its value, a time range, pages of 50).

The events come from services.cloudtrail's `lookup`, authorized by cloudtrail:LookupEvents like the
API's LookupEvents; a caller without it gets the page's 403. Each row shows the event's time, who
(for a role session, the display name and colour the viewing user gave that role in Switch Role,
from their role history), the event, the source address, the result (Success, or the errorCode, or a
sign-in's errorMessage) and the CloudTrail record itself. In the management account, when the
operator allows it (`serve --audit-org-view`), a switch shows every account's events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from rolehop.console.web import Ctx
from rolehop.core.errors import AccessDenied, AwsError
from rolehop.services.cloudtrail.lookup_events import ATTRIBUTES, lookup
from rolehop.services.ports.console import RoleHistoryEntry
from rolehop.services.ports.trail import StoredEvent
from rolehop.services.signin.switch_role import role_history

PAGE_SIZE = 50
LABELS = {
    "EventName": "Event name",
    "Username": "User name",
    "ResourceName": "Resource name",
    "ResourceType": "Resource type",
    "EventSource": "Event source",
    "EventId": "Event ID",
    "ReadOnly": "Read-only",
    "AccessKeyId": "AWS access key",
    "PrincipalArn": "User or role (ARN)",
}
CHOICES = tuple((a, LABELS.get(a, a)) for a in ATTRIBUTES)
TIME_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends, read as UTC


class BadFilter(ValueError):
    pass


@dataclass(frozen=True)
class Row:
    event_id: str
    time: datetime
    account_id: str
    who: str  # the user name, or the role session's name
    role: str  # for a role session: the role's name (with its path)
    shown_as: RoleHistoryEntry | None  # the viewing user's name and colour for that role
    event_name: str
    event_source: str
    source_ip: str
    result: str
    failed: bool
    record: str  # the CloudTrail record, indented


def _time(text: str, *, end: bool) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise BadFilter("Enter times as YYYY-MM-DDTHH:MM (UTC).") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end and len(text) <= len("2026-01-01T00:00"):
        moment += timedelta(seconds=59)  # to the end of the minute given
    return moment


def _role_of(identity: dict[str, Any]) -> tuple[str, str] | None:
    """(account ID, role name with its path) of a role session's userIdentity."""
    if identity.get("type") != "AssumedRole":
        return None
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    role_arn = issuer.get("arn")
    if not isinstance(role_arn, str) or role_arn.count(":") < 5:
        return None
    parts = role_arn.split(":", 5)
    resource = parts[5]
    return (parts[4], resource[len("role/") :]) if resource.startswith("role/") else None


def _row(stored: StoredEvent, history: dict[tuple[str, str], RoleHistoryEntry]) -> Row:
    event = stored.event
    try:
        record: dict[str, Any] = json.loads(event.record)
    except ValueError:
        record = {}
    identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
    role = _role_of(identity or {})
    shown_as = history.get((role[0], role[1].lower())) if role else None
    return Row(
        event_id=event.event_id,
        time=event.event_time,
        account_id=event.account_id,
        who=event.username or "",
        role=role[1] if role else "",
        shown_as=shown_as,
        event_name=event.event_name,
        event_source=event.event_source,
        source_ip=str(record.get("sourceIPAddress") or ""),
        result=event.error_code or "Success",
        failed=event.error_code is not None,
        record=json.dumps(record, indent=2, ensure_ascii=False),
    )


def event_history(ctx: Ctx) -> Response:
    assert ctx.session is not None
    q = ctx.query
    attribute = q.get("attribute", "")
    value = q.get("value", "").strip() if attribute else ""
    call = ctx.call("cloudtrail")
    settings = ctx.rt.settings
    org_allowed = settings.audit_org_view and call.caller.account_id == settings.management_account_id
    organization = org_allowed and q.get("org") == "1"
    form: dict[str, Any] = {
        "attribute": attribute,
        "value": value,
        "start": q.get("start", ""),
        "end": q.get("end", ""),
        "org": organization,
    }
    values: dict[str, Any] = {
        "form": form,
        "choices": CHOICES,
        "org_allowed": org_allowed,
        "rows": [],
        "next_link": None,
        "first_link": None,
        "error": None,
        "denied": None,
    }
    try:
        start = _time(q.get("start", ""), end=False)
        end = _time(q.get("end", ""), end=True)
        found, token = lookup(
            call,
            attribute=attribute or None,
            value=value if attribute else None,
            start=start,
            end=end,
            category=None,
            max_results=PAGE_SIZE,
            next_token=q.get("next") or None,
            organization=organization,
        )
    except AccessDenied as e:
        return ctx.render("cloudtrail_events.html", status=403, **{**values, "denied": e.message or e.code})
    except (AwsError, BadFilter) as e:
        message = e.message if isinstance(e, AwsError) else str(e)
        return ctx.render("cloudtrail_events.html", status=400, **{**values, "error": message})
    history = {(h.account_id, h.role_name.lower()): h for h in role_history(ctx.console, ctx.session)}
    kept = {k: v for k, v in q.items() if k in ("attribute", "value", "start", "end", "org") and v}
    values["rows"] = [_row(stored, history) for stored in found]
    if token is not None:
        values["next_link"] = "/cloudtrail/events?" + urlencode({**kept, "next": token})
    if q.get("next"):
        values["first_link"] = "/cloudtrail/events" + (f"?{urlencode(kept)}" if kept else "")
    return ctx.render("cloudtrail_events.html", **values)


def events_link(attribute: str, value: str) -> str:
    """The Event history filtered by one lookup attribute (for links from other pages)."""
    return "/cloudtrail/events?" + urlencode({"attribute": attribute, "value": value})


def home(ctx: Ctx) -> Response:
    return ctx.redirect("/cloudtrail/events")
