"""Why was I denied? Every AccessDenied's explanation is kept for operators (`rolehop explain
REQUEST-ID`), and — opt-in, as IAM and STS return plain messages — carried in the error as an
encoded authorization message that STS DecodeAuthorizationMessage reads back.

A key repeating a denied call must not grow the store or the log without bound: identical denials
(same principal, action, resource and decision) within AGGREGATE_WINDOW of the first are one row,
the first's explanation with a count and the last request, and the request IDs of the first
REPEAT_IDS_KEPT repeats and of the latest resolve to it. Log lines are limited per principal
(pipeline.denial_log).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from types import MappingProxyType
from typing import Any

from rolehop.core.policy import Decision
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.audit import AuditTx

log = logging.getLogger("rolehop.denials")
MESSAGE_PURPOSE = b"rolehop/authorization-message/v1"
AGGREGATE_WINDOW = timedelta(minutes=5)
REPEAT_IDS_KEPT = 20


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


def record(call: Call, action: str, resource: str, decision: Decision, context: dict[str, Any]) -> str:
    """Stores the explanation; returns the suffix for the AccessDenied message ('' unless opted in)."""
    rt = call.runtime

    @cache  # built at most once, and only when kept or encoded
    def text() -> str:
        return json.dumps(explanation(call, action, resource, decision, context), sort_keys=True)

    try:
        with rt.store.transaction() as tx:
            _keep(tx, call, fingerprint(call, action, resource, decision), text)
    except Exception:  # the denial stands even if its explanation cannot be stored
        log.exception("could not store the explanation of request %s", call.request_id)
    # logged after the store, which a request tried on the event loop stops at (offload), unlogged
    line = f"AccessDenied {call.request_id}: {call.caller.arn} {action} on {resource}: {decision.decision}"
    rt.denial_log.denied(call.caller.arn, action, line, call.now)
    if not rt.settings.encode_denials:
        return ""
    sealed = rt.ring.seal(text().encode(), purpose=MESSAGE_PURPOSE, nonce=rt.random(12))
    return " Encoded authorization failure message: " + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def _keep(tx: AuditTx, call: Call, same: str, text: Callable[[], str]) -> None:
    """A new aggregate, or one more repeat of the open one (its request ID kept while few)."""
    found = tx.open_denial(same, since=call.now - AGGREGATE_WINDOW)
    if found is None:
        tx.record_denial(call.request_id, call.now, same, text())
        return
    keep = found.count <= REPEAT_IDS_KEPT  # the count includes the first denial
    tx.repeat_denial(found.first_request_id, call.request_id, call.now, keep_id=keep)


def explain(rt: Runtime, request_id: str) -> dict[str, Any] | None:
    """The explanation of a denied request: its aggregate's first explanation, under this request's
    ID and time, with the aggregate's count and first and last requests."""
    with rt.store.transaction() as tx:
        found = tx.get_denial(request_id)
    if found is None:
        return None
    details: dict[str, Any] = json.loads(found.explanation)
    if request_id != found.first_request_id:
        details["requestId"] = request_id
        details["time"] = found.at.isoformat()
    details["repeats"] = {
        "count": found.count,
        "firstRequestId": found.first_request_id,
        "eventFirstSeen": found.first_at.isoformat(),
        "lastRequestId": found.last_request_id,
        "eventLastSeen": found.last_at.isoformat(),
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
