"""Why was I denied? Every AccessDenied's explanation is kept under its request ID for operators
(`rolehop explain`), and — opt-in, as IAM and STS return plain messages — carried in the error as
an encoded authorization message that STS DecodeAuthorizationMessage reads back."""

from __future__ import annotations

import base64
import json
import logging
from types import MappingProxyType
from typing import Any

from rolehop.core.policy import Decision
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.runtime import Runtime

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


def record(call: Call, action: str, resource: str, decision: Decision, context: dict[str, Any]) -> str:
    """Stores the explanation; returns the suffix for the AccessDenied message ('' unless opted in)."""
    rt = call.runtime
    details = explanation(call, action, resource, decision, context)
    text = json.dumps(details, sort_keys=True)
    log.info(
        "AccessDenied %s: %s %s on %s: %s",
        call.request_id,
        call.caller.arn,
        action,
        resource,
        decision.decision,
    )
    try:
        with rt.store.transaction() as tx:
            tx.record_denial(call.request_id, call.now, text)
    except Exception:  # the denial stands even if its explanation cannot be stored
        log.exception("could not store the explanation of request %s", call.request_id)
    if not rt.settings.encode_denials:
        return ""
    sealed = rt.ring.seal(text.encode(), purpose=MESSAGE_PURPOSE, nonce=rt.random(12))
    return " Encoded authorization failure message: " + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def explain(rt: Runtime, request_id: str) -> dict[str, Any] | None:
    with rt.store.transaction() as tx:
        found = tx.get_denial(request_id)
    return json.loads(found[1]) if found else None


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
