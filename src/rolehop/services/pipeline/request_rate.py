"""Request throttling: a token bucket per source address, taken before authentication (a flood of
unsigned or badly signed requests costs a dictionary look-up, not a signature check or a store read),
and one per principal (the ARN behind the access key), taken once the signature is verified.

The buckets live in this node's memory: a guard against floods, not a quota. Several nodes (or
`serve --workers N`) each allow the full rate, and a restart forgets every bucket. A source address
may carry many principals (a NAT, a CI runner), so its rate is SOURCE_MULTIPLE times a principal's.
Times come from the runtime's clock, never from the wall clock.
"""

from __future__ import annotations

import threading
from datetime import datetime

from rolehop.core.rate_limit import Buckets, Rate

SOURCE_MULTIPLE = 4


class RequestRates:
    """The node's buckets; `per_second` None (or 0) lets every request through."""

    def __init__(self, per_second: float | None = None, burst: float | None = None) -> None:
        self.enabled = bool(per_second)
        self._lock = threading.Lock()  # the API runs on worker threads and on the event loop
        self._principals: Buckets | None = None
        self._sources: Buckets | None = None
        if per_second:
            rate = Rate(per_second, burst if burst is not None else 2 * per_second)
            self._principals = Buckets(rate)
            self._sources = Buckets(Rate(rate.per_second * SOURCE_MULTIPLE, rate.burst * SOURCE_MULTIPLE))

    def source_allowed(self, source_ip: str, now: datetime) -> bool:
        """False when the address has used up its requests; an unknown address ("") is not counted."""
        return self._take(self._sources, source_ip, now)

    def principal_allowed(self, principal_arn: str, now: datetime) -> bool:
        return self._take(self._principals, principal_arn, now)

    def _take(self, buckets: Buckets | None, key: str, now: datetime) -> bool:
        if buckets is None or not key:
            return True
        with self._lock:
            return buckets.take(key, now=now.timestamp())
