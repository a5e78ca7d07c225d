"""Performing an operation, as the API and the console both do: the handler, and its CloudTrail record.

A change is one transaction with its record: the handler's own transactions become savepoints of it
(store.sql), committed or rolled back each as before, and made durable together with the record.
So no change is acknowledged, or seen by anyone, without its record. A refused change commits what
the handler kept on purpose before refusing (a failed MFA code's count) with the refusal's record.
Reads, STS calls and calls whose commit failed are recorded in the trail's next batch.
"""

from __future__ import annotations

from collections.abc import Callable

from rolehop.core.errors import AwsError, InternalFailure
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import OPERATIONS, Params, Result
from rolehop.services.pipeline.trail_records import api_events, performed_in, read_only
from rolehop.services.ports.trail import TrailEvent

INTERNAL_FAILURE = InternalFailure("We encountered an internal error. Please try again.")


def perform(call: Call, operation: str, decode: Callable[[], Params]) -> Result:
    """Decodes the parameters (`decode` raises the protocol's validation errors), runs the operation's
    handler and records it."""
    handler = OPERATIONS[(call.service, operation)]
    rt = call.runtime
    params: Params | None = None

    def records(result: Result | None = None, error: AwsError | None = None) -> list[TrailEvent]:
        if not rt.trail.enabled:
            return []
        other = performed_in(call.service, operation, params) if result is not None else None
        explanation = call.explanations[-1] if error is not None and call.explanations else None
        return api_events(
            call,
            operation,
            params,
            result=result,
            error=error,
            user_agent=call.user_agent,
            explanation=explanation,
            performed_in=other,
        )

    if read_only(call.service, operation):
        try:
            params = decode()
            result = handler(call, params)
        except AwsError as e:
            rt.trail.record(records(error=e))
            raise
        except Exception:
            rt.trail.record(records(error=INTERNAL_FAILURE))
            raise
        rt.trail.record(records(result))
        return result

    refused: AwsError | None = None
    try:
        with rt.store.transaction() as tx:
            try:
                params = decode()
                result = handler(call, params)
            except AwsError as e:
                refused = e  # raised once what the handler kept, and the refusal's record, are committed
                rt.trail.append(tx, records(error=e))
            else:
                rt.trail.append(tx, records(result))
    except AwsError as e:  # the commit failed: nothing changed
        rt.trail.record(records(error=e))
        raise
    except Exception:
        rt.trail.record(records(error=INTERNAL_FAILURE))
        raise
    finally:
        # the handler told this node's caches of its writes before they were committed: tell them
        # again now, so that nothing read in between is served from them
        rt.changed()
    if refused is not None:
        raise refused
    return result
