"""Prometheus metrics of one process, served at `GET /metrics` (rolehop.app).

Counted at the edges (app: every request; a store wrapper: every transaction) and, through the
services' Meter port (services.ports.meter), at a few service points: policy decisions, STS
credentials issued, failed MFA codes and passwords. Services never import prometheus_client.

Under `serve --workers N` the parent points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the
workers start; prometheus_client then keeps every value in a file per process and a scrape, whichever
worker answers it, adds them all up (prometheus_client.multiprocess).

The hot path pays for a request a dict lookup and two updates. Cache hits are not counted here per
lookup: each Cache keeps two plain ints and `sync_caches` adds what they gained to the counters, on
a scrape and at most once a second on the request path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import fields
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from rolehop.services.pipeline.caches import Cache, Caches
from rolehop.services.ports.store import Store, Tx

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# the STS hot path answers in well under a millisecond: buckets start there
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
# the codes SDKs take for throttling and back off on (botocore.retries.standard's list, less those of
# services rolehop does not speak); IAM's LimitExceeded is a quota, counted by authentication
# throttles itself (auth_throttled) where it means one
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "LimitExceededException",
    }
)
SYNC_SECONDS = 1.0


class Metrics:
    """This process's metrics, and the Meter that services count through."""

    def __init__(self) -> None:
        # prometheus_client chose its mode when it was imported (PROMETHEUS_MULTIPROC_DIR set or not)
        self.multiprocess = bool(getattr(values.ValueClass, "_multiprocess", False))
        own = CollectorRegistry()
        self.requests = Counter(
            "rolehop_requests", "Requests answered.", ("service", "operation", "status"), registry=own
        )
        self.latency = Histogram(
            "rolehop_request_duration_seconds",
            "Time to answer a request.",
            ("service", "operation"),
            buckets=REQUEST_BUCKETS,
            registry=own,
        )
        self.throttled = Counter(
            "rolehop_throttled_requests",
            "Requests refused by a throttle.",
            ("service", "operation"),
            registry=own,
        )
        self.decisions = Counter(
            "rolehop_authorization_decisions", "Policy evaluations by result.", ("result",), registry=own
        )
        self.credentials = Counter(
            "rolehop_sts_credentials_issued", "STS temporary credentials issued.", registry=own
        )
        self.auth_failures = Counter(
            "rolehop_authentication_failures", "Failed MFA codes and passwords.", ("factor",), registry=own
        )
        self.auth_throttles = Counter(
            "rolehop_authentication_throttled",
            "Attempts refused while a user or source address is blocked after failed authentications.",
            registry=own,
        )
        self.cache_lookups = Counter(
            "rolehop_cache_lookups",
            "Cache lookups by cache and result (hit, miss).",
            ("cache", "result"),
            registry=own,
        )
        self.store_seconds = Histogram(
            "rolehop_store_transaction_duration_seconds",
            "Time a store transaction is open, by outcome (commit, rollback).",
            ("outcome",),
            buckets=STORE_BUCKETS,
            registry=own,
        )
        self._exposed = own
        if self.multiprocess:  # every worker's files, summed; not this process's registry alone
            self._exposed = CollectorRegistry()
            MultiProcessCollector(self._exposed)  # type: ignore[no-untyped-call]
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._caches: tuple[tuple[str, Cache[Any, Any]], ...] = ()
        self._reported: dict[str, tuple[int, int]] = {}
        self._sync_lock = threading.Lock()
        self._next_sync = 0.0

    # -- the edge

    def request(self, service: str, operation: str, status: int, seconds: float, error: str) -> None:
        key = (service, operation, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(service, operation, f"{status // 100}xx"),
                self.latency.labels(service, operation),
            )
        children[0].inc()
        children[1].observe(seconds)
        if error in THROTTLE_CODES:
            self.throttled.labels(service, operation).inc()
        if time.monotonic() >= self._next_sync:
            self.sync_caches()

    def page(self) -> bytes:
        """The text exposition of every metric (all workers' under `serve --workers N`)."""
        self.sync_caches()
        return generate_latest(self._exposed)

    # -- the Meter port (services.ports.meter)

    def decision(self, result: str) -> None:
        self.decisions.labels(result).inc()

    def credentials_issued(self) -> None:
        self.credentials.inc()

    def auth_failure(self, factor: str) -> None:
        self.auth_failures.labels(factor).inc()

    def auth_throttled(self) -> None:
        self.auth_throttles.inc()

    # -- caches

    def watch_caches(self, caches: Caches) -> None:
        self._caches = tuple((f.name, getattr(caches, f.name)) for f in fields(caches))

    def sync_caches(self) -> None:
        """Adds to the cache counters what each cache counted since the last call (one caller at a time:
        two would add the same lookups twice)."""
        if not self._sync_lock.acquire(blocking=False):
            return
        try:
            self._next_sync = time.monotonic() + SYNC_SECONDS
            for name, cache in self._caches:
                hits, misses = cache.hits, cache.misses
                seen_hits, seen_misses = self._reported.get(name, (0, 0))
                if hits > seen_hits:
                    self.cache_lookups.labels(name, "hit").inc(hits - seen_hits)
                if misses > seen_misses:
                    self.cache_lookups.labels(name, "miss").inc(misses - seen_misses)
                self._reported[name] = (hits, misses)
        finally:
            self._sync_lock.release()

    def timed_store(self, store: Store) -> Store:
        return TimedStore(
            store, self.store_seconds.labels("commit").observe, self.store_seconds.labels("rollback").observe
        )


class TimedStore:
    """A store whose transactions are timed, from the block's start to its commit or rollback."""

    def __init__(
        self, inner: Store, committed: Callable[[float], None], rolled_back: Callable[[float], None]
    ) -> None:
        self.inner = inner
        self._committed = committed
        self._rolled_back = rolled_back

    def transaction(self) -> AbstractContextManager[Tx]:
        return _TimedTransaction(self.inner.transaction(), self._committed, self._rolled_back)

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # the engine the console's store shares, the store's watcher


class _TimedTransaction:
    """A plain context manager (not @contextmanager): it is on every store-bound request."""

    __slots__ = ("_committed", "_inner", "_rolled_back", "_start")

    def __init__(
        self,
        inner: AbstractContextManager[Tx],
        committed: Callable[[float], None],
        rolled_back: Callable[[float], None],
    ) -> None:
        self._inner = inner
        self._committed = committed
        self._rolled_back = rolled_back
        self._start = 0.0

    def __enter__(self) -> Tx:
        self._start = time.perf_counter()
        return self._inner.__enter__()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        committed = False
        try:
            suppressed = self._inner.__exit__(kind, error, tb)
            committed = kind is None
            return suppressed
        finally:
            (self._committed if committed else self._rolled_back)(time.perf_counter() - self._start)


def labels_of(page: bytes) -> Mapping[str, float]:
    """`name{labels}` -> value of a text exposition: what tests and `doctor`-style checks read."""
    return dict(_samples(page))


def _samples(page: bytes) -> Iterator[tuple[str, float]]:
    for line in page.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            yield name, float(value)
