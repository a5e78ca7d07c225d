"""Why was I denied? Every AccessDenied's explanation is kept in the audit trail, in the refused
call's event (its `explanation` column, never in the CloudTrail record the account's event history
shows), for operators (`rolehop explain REQUEST-ID`); and — opt-in, as IAM and STS return plain
messages — carried in the error as an encoded authorization message that STS
DecodeAuthorizationMessage reads back.

A key repeating a denied call must not grow the store without bound beyond its events: identical
denials (same principal, action, resource and decision: the fingerprint) within AGGREGATE_WINDOW of
the first are one aggregate. The first one's event keeps the explanation; each repeat's keeps only
the fingerprint and the first's request ID (about 130 bytes instead of a kilobyte or more), and
`explain` counts the aggregate from the trail. Which request opened a window is held in the node's
memory (pipeline.denial_windows). Log lines are limited per principal (pipeline.denial_log).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from functools import cache
from types import MappingProxyType
from typing import Any

from rolehop.core.policy import Decision
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.denial_windows import AGGREGATE_WINDOW
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.trail import StoredEvent

log = logging.getLogger("rolehop.denials")
MESSAGE_PURPOSE = b"rolehop/authorization-message/v1"


def explanation(
    call: Call, action: str, resource: str, decision: Decision, context: dict[str, Any]
) -> dict[str, Any]:
    """The decision as AWS's decoded authorization messages describe it, plus the missing layers."""
    return {
        "allowed": False,
        "explicitDeny": decision.decision == "ExplicitlyDenied",
        "decision": decision.decision,
        "deniedIn": list(decision.denied_in),
        "missingAllowIn": list(decision.missing),
        "matchedStatements": {
            "items": [
                {"policy": m.policy, "statementIndex": m.statement, "sid": m.sid, "effect": m.effect}
                for m in decision.matched
            ]
        },
        "context": {
            "principal": {"id": call.caller.user_id, "arn": call.caller.arn},
            "action": action,
            "resource": resource,
            "conditions": {
                "items": [
                    {
                        "key": k,
                        "values": {"items": [{"value": v} for v in ([val] if isinstance(val, str) else val)]},
                    }
                    for k, val in sorted(context.items())
                ]
            },
        },
        "requestId": call.request_id,
        "time": call.now.isoformat(),
    }


def fingerprint(call: Call, action: str, resource: str, decision: Decision) -> str:
    """What makes two denials identical: who, what, on what, and the decision with its reasons."""
    matched = [(m.policy, m.statement, m.sid, m.effect) for m in decision.matched]
    who = (call.caller.arn, call.caller.user_id)
    same = [*who, action, resource, decision.decision, decision.denied_in, decision.missing, matched]
    return hashlib.sha256(json.dumps(same).encode()).hexdigest()


def _compact(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _reference(same: str, first_request_id: str) -> str:
    """What a repeat's event keeps: the fingerprint and the first denial's request ID."""
    return _compact({"fingerprint": same, "firstRequestId": first_request_id})


def record(call: Call, action: str, resource: str, decision: Decision, context: dict[str, Any]) -> str:
    """Keeps the explanation for the refused call's trail event (`call.explanations`, which
    pipeline.perform puts in the event); returns the suffix for the AccessDenied message ('' unless
    opted in). No I/O: the event is written with the call's own record."""
    rt = call.runtime

    @cache  # built at most once, and only when kept or encoded
    def details() -> dict[str, Any]:
        return explanation(call, action, resource, decision, context)

    if rt.trail.enabled:
        same = fingerprint(call, action, resource, decision)
        first = rt.denial_windows.first_of(same, call.request_id, call.now)
        if first is None:
            call.explanations.append(_compact({"fingerprint": same, "explanation": details()}))
        else:
            call.explanations.append(_reference(same, first))
    line = f"AccessDenied {call.request_id}: {call.caller.arn} {action} on {resource}: {decision.decision}"
    rt.denial_log.denied(call.caller.arn, action, line, call.now)
    if not rt.settings.encode_denials:
        return ""
    text = json.dumps(details(), sort_keys=True)
    sealed = rt.ring.seal(text.encode(), purpose=MESSAGE_PURPOSE, nonce=rt.random(12))
    return " Encoded authorization failure message: " + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def _kept(stored: StoredEvent | None) -> dict[str, Any] | None:
    """What a denied call's event keeps of its explanation (None if it is not a denial's)."""
    if stored is None or not stored.event.explanation:
        return None
    try:
        kept = json.loads(stored.event.explanation)
    except ValueError:
        return None
    return kept if isinstance(kept, dict) and isinstance(kept.get("fingerprint"), str) else None


def explain(rt: Runtime, request_id: str) -> dict[str, Any] | None:
    """The explanation of a denied request: its aggregate's first explanation, under this request's
    ID and time, with the aggregate's count and first and last requests."""
    rt.trail.flush()  # this node's batched records (reads, STS calls) first
    with rt.store.transaction() as tx:
        found = tx.event_by_request(request_id)
        kept = _kept(found)
        if found is None or kept is None:
            return None
        first_id = kept.get("firstRequestId", request_id)
        first = found if first_id == request_id else tx.event_by_request(first_id)
        first_kept = _kept(first)
        if first is None or first_kept is None or not isinstance(first_kept.get("explanation"), dict):
            return None  # the first denial's event was lost (a crash before its batch was written)
        at = first.event.event_time
        repeats, newest = tx.events_explained(
            first.event.principal_arn, at, at + AGGREGATE_WINDOW, _reference(kept["fingerprint"], first_id)
        )
    details: dict[str, Any] = first_kept["explanation"]
    if request_id != first_id:
        details["requestId"] = request_id
        details["time"] = found.event.event_time.isoformat()
    last = newest.event if newest is not None else first.event
    details["repeats"] = {
        "count": 1 + repeats,
        "firstRequestId": first_id,
        "eventFirstSeen": first.event.event_time.isoformat(),
        "lastRequestId": last.request_id,
        "eventLastSeen": last.event_time.isoformat(),
    }
    return details


_LAYER_NAMES = MappingProxyType(
    {
        "identity": "identity-based policy",
        "boundary": "permissions boundary",
        "session": "session policy",
        "scp": "service control policy",
        "rcp": "resource control policy",
        "resource": "resource-based policy",
    }
)


def denial_message(principal: str, action: str, resource: str, decision: Decision) -> str:
    head = f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
    if decision.decision == "ExplicitlyDenied":
        layer = decision.denied_in[0] if decision.denied_in else "identity"
        name = _LAYER_NAMES.get(layer, "identity-based policy")
        article = "an" if name[0] in "aeiou" else "a"
        return f"{head} with an explicit deny in {article} {name}"
    missing = decision.missing[0] if decision.missing else "identity"
    return (
        f"{head} because no {_LAYER_NAMES.get(missing, 'identity-based policy')} allows the {action} action"
    )
