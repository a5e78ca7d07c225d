"""Where an API request runs: in a worker thread, so that nothing it blocks on (the store, argon2,
validating a large policy) holds up the event loop and every other request with it.

The STS hot path is the exception: GetCallerIdentity and AssumeRole are answered from the caches and
the sealed session token, in well under a millisecond, less than a trip to a thread costs. They are
tried on the loop first with the store out of reach; one that needs the store after all (a cache
miss, MFA) stops at its first transaction, before it has changed anything, and starts over in a
thread. Its audit record is batched (pipeline.trail): recording it needs no transaction.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread

from rolehop.services.ports.store import Store, Tx

T = TypeVar("T")

# API requests handled at once per process, each in a worker thread (the console's pages run in
# Starlette's own pool). Enough that a few slow ones (argon2 takes a core for tens of milliseconds)
# leave threads for the rest; few enough for PostgreSQL's pool of 10 (+10) connections.
API_THREADS = 16
LOOP_ACTIONS = frozenset({"GetCallerIdentity", "AssumeRole"})
LOOP_BODY_MAX = 16 * 1024  # larger bodies (long session policies, many tags) go to a thread
_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z]+)(?:&|$)")


class NeedsThread(BaseException):
    """Raised by the first transaction of a request tried on the event loop. A BaseException, so that
    no `except Exception` on the way (AWS-shaped errors, best-effort writes) takes it for a failure."""


class LoopGuardedStore:
    """The store, which refuses transactions on a thread that is trying a request on the loop."""

    def __init__(self, store: Store) -> None:
        self.inner = store
        self._trying = threading.local()

    def transaction(self) -> AbstractContextManager[Tx]:
        if getattr(self._trying, "on", False):
            raise NeedsThread
        return self.inner.transaction()

    def reset(self) -> None:
        self.inner.reset()

    def watch_changes(self, on_change: Callable[[], None]) -> None:
        self.inner.watch_changes(on_change)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # e.g. the engine that the console's store shares

    @contextmanager
    def out_of_reach(self) -> Iterator[None]:
        self._trying.on = True
        try:
            yield
        finally:
            self._trying.on = False


def hot_path(body: bytes, query_string: str, target: str | None) -> bool:
    """Whether a request is one of the STS hot path's, by its Action (Query protocol only)."""
    if target or len(body) > LOOP_BODY_MAX:
        return False
    found = _ACTION.search(body) or _ACTION.search(query_string.encode("latin-1"))
    return found is not None and found.group(1).decode() in LOOP_ACTIONS


class Offload:
    def __init__(self, store: Store) -> None:
        self.store = store if isinstance(store, LoopGuardedStore) else None
        self.threads = CapacityLimiter(API_THREADS)

    async def run(self, handle: Callable[[], T], *, loop_first: bool) -> T:
        """`handle()` in a worker thread, or first on the loop (`loop_first`) when the store is guarded."""
        if loop_first and self.store is not None:
            try:
                with self.store.out_of_reach():
                    return handle()
            except NeedsThread:
                pass  # it stopped before changing anything: start over where blocking is harmless
        return await to_thread.run_sync(handle, limiter=self.threads)
