"""AccessDenied log lines, limited per principal: a key repeating a denied call must not flood the log.

Each principal may log LOG_BURST lines per LOG_WINDOW seconds. The first denial past the burst logs
one notice; the rest are counted, by action, and summarized in one line when the window ends (at the
principal's next denial, at the next sweep, or when the server stops). Times are the requests' own
(`call.now`), so tests move them with the clock. Shared by the node's request threads.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

log = logging.getLogger("rolehop.denials")
LOG_BURST = 10
LOG_WINDOW = timedelta(seconds=60)
PRINCIPALS_BOUND = 10_000  # past it, new principals share one window: memory stays bounded
SHARED = "(other principals)"
SUMMARY_ACTIONS = 5  # the most frequent suppressed actions named in a summary


@dataclass
class _Window:
    started: datetime
    logged: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    last: datetime | None = None

    def summary(self, principal: str) -> str | None:
        total = sum(self.suppressed.values())
        if not total:
            return None
        actions = ", ".join(f"{a} x{n}" for a, n in self.suppressed.most_common(SUMMARY_ACTIONS))
        others = len(self.suppressed) - SUMMARY_ACTIONS
        more = f" and {others} other actions" if others > 0 else ""
        return (
            f"{total} more AccessDenied for {principal} not logged between "
            f"{self.started.isoformat()} and {(self.last or self.started).isoformat()}: {actions}{more}"
        )


class DenialLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._next_sweep: datetime | None = None

    def denied(self, principal: str, action: str, line: str, now: datetime) -> None:
        """Logs `line` (an AccessDenied of `principal` doing `action`) unless its burst is spent."""
        with self._lock:
            out = self._sweep(now)
            key = principal if principal in self._windows or len(self._windows) < PRINCIPALS_BOUND else SHARED
            window = self._windows.get(key)
            if window is not None and now - window.started >= LOG_WINDOW:
                out.append(window.summary(key))
                window = None
            if window is None:
                window = self._windows[key] = _Window(now)
            if window.logged < LOG_BURST:
                window.logged += 1
                out.append(line)
            else:
                if not window.suppressed:
                    out.append(
                        f"AccessDenied for {key}: more than {LOG_BURST} in {LOG_WINDOW.seconds} s; "
                        f"the rest until {(window.started + LOG_WINDOW).isoformat()} are counted, not logged"
                    )
                window.suppressed[action] += 1
                window.last = now
        self._emit(out)

    def flush(self, now: datetime) -> None:
        """Summarizes every window that held lines back (the server is stopping)."""
        with self._lock:
            out = [w.summary(p) for p, w in self._windows.items()]
            self._windows.clear()
        self._emit(out)

    def _sweep(self, now: datetime) -> list[str | None]:
        """Ends the windows that are over, at most once a window, so quiet principals' summaries come
        out too and forgotten principals free their entry."""
        if self._next_sweep is not None and now < self._next_sweep:
            return []
        self._next_sweep = now + LOG_WINDOW
        over = [p for p, w in self._windows.items() if now - w.started >= LOG_WINDOW]
        return [self._windows.pop(p).summary(p) for p in over]

    def _emit(self, lines: list[str | None]) -> None:
        for line in lines:
            if line is not None:
                log.info("%s", line)
