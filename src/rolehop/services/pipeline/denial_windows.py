"""The open aggregates of identical AccessDenied: which request was the first of each fingerprint's
current window, so that a repeat's trail event carries a reference to it instead of the whole
explanation (pipeline.denials). In this node's memory, bounded; shared by its request threads.

A node that restarts, or another node, opens windows of its own: each aggregate is the first denial
and the repeats that refer to it, all on one node.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

AGGREGATE_WINDOW = timedelta(minutes=5)  # identical denials within it of the first are one
WINDOWS_BOUND = 10_000  # past it, the oldest window is forgotten: memory stays bounded


class DenialWindows:
    def __init__(self, window: timedelta = AGGREGATE_WINDOW) -> None:
        self.window = window
        self._open: dict[str, tuple[str, datetime]] = {}  # fingerprint -> (first request ID, its time)
        self._lock = threading.Lock()

    def first_of(self, fingerprint: str, request_id: str, at: datetime) -> str | None:
        """The first request of the open window of `fingerprint` if `request_id` repeats it within
        the window; None if this request opens a new window (it is then the first)."""
        with self._lock:
            found = self._open.get(fingerprint)
            if found is not None:
                first, first_at = found
                if first == request_id:  # the same request tried again (offload's loop, then a thread)
                    return None
                if first_at <= at <= first_at + self.window:
                    return first
                del self._open[fingerprint]  # reinserted below: the newest window is last
            self._open[fingerprint] = (request_id, at)
            while len(self._open) > WINDOWS_BOUND:
                del self._open[next(iter(self._open))]
            return None
