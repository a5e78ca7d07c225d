"""Access-key last-used tracking without a database write per request: uses are kept in memory
and written in one batch at most every few seconds (and before anyone reads them). Shared by the
node's request threads; the store keeps the latest use whatever order batches arrive in."""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from datetime import datetime

from rolehop.core.errors import ServiceUnavailable
from rolehop.services.ports.store import Store

FLUSH_SECONDS = 10.0


class KeyUsage:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[str, tuple[datetime, str, str]] = {}
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def record(self, access_key_id: str, at: datetime, service: str, region: str) -> None:
        with self._lock:
            self._pending[access_key_id] = (at, service, region)
        if time.monotonic() - self._last_flush > FLUSH_SECONDS:
            # the store out of reach must not fail a request that needs none: the uses wait for a flush
            with suppress(ServiceUnavailable):
                self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        if not pending:
            return
        try:
            with self._store.transaction() as tx:
                tx.record_key_use((k, at, svc, region) for k, (at, svc, region) in pending.items())
        except BaseException:
            # not written (the store failed, or a request tried on the event loop must start over in a
            # thread): the uses wait for the next flush, behind any newer ones recorded meanwhile
            with self._lock:
                self._pending = {**pending, **self._pending}
            raise
