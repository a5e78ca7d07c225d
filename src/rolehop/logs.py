"""`serve`'s logs: one JSON object a line (for a log shipper) or plain text (for a person at a
terminal), and one line per request from rolehop.app.

A request's line carries who asked for what and how it went, never what was sent: no parameters,
headers, bodies or query strings (they hold secrets, session tokens, passwords, MFA codes and
presigned signatures), only the path.

Lines are written in batches by a thread of their own from a bounded queue: a log sink that stalls (a
full pipe, a slow disk) never holds up a request, and a request pays for its line an append, not a
format and a write. When the queue is full a line is dropped, not waited for.
"""

from __future__ import annotations

import atexit
import copy
import json
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quoted  # a JSON string literal, in C
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from rolehop.wire.api import Seen

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")
REQUEST_LOGGER = "rolehop.request"
# what a request's line adds to the record (logging's `extra`), in the order a JSON line shows them
REQUEST_FIELDS = (
    "request_id",
    "principal",
    "service",
    "operation",
    "method",
    "path",
    "status",
    "error",
    "duration_ms",
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUEUE_LINES = 10_000  # lines waiting for the writer thread before new ones are dropped
WRITE_SECONDS = 0.2  # how often the writer thread looks for lines
STOP_SECONDS = 5.0  # at exit, time for the writer to finish the queue (a stuck sink gets no more)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which worker of `serve --workers N`
        }
        for name in REQUEST_FIELDS:
            value = record.__dict__.get(name)
            if value is not None and value != "":
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # formatted before it was queued
            line["exception"] = record.exc_text
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(
            f"{n}={record.__dict__[n]}" for n in REQUEST_FIELDS if record.__dict__.get(n) not in (None, "")
        )
        return f"{text} {extra}" if extra else text


_requests = logging.getLogger(REQUEST_LOGGER)
MAX_PATH = 200  # a path is the client's to choose: a line stays short whatever it sends


class _Writer:
    """Writes what it is handed, a batch at a time, from a thread of its own. Handing over is a deque
    append (no lock, no wake-up): the thread looks every WRITE_SECONDS."""

    def __init__(self, stream: TextIO, log_format: LogFormat) -> None:
        self.stream = stream
        self.formatter: logging.Formatter = JsonFormatter() if log_format == "json" else TextFormatter()
        self.json = log_format == "json"
        self.pending: deque[logging.LogRecord | RequestLine] = deque()
        self.dropped = 0
        self._stamp = (-1, "")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rolehop-log-writer", daemon=True)
        self._thread.start()

    def _second(self, at: float) -> str:
        """The UTC time to the second, formatted once a second (lines come in thousands a second)."""
        whole = int(at)
        if whole != self._stamp[0]:
            self._stamp = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
        return self._stamp[1]

    def put(self, item: logging.LogRecord | RequestLine) -> None:
        if len(self.pending) < QUEUE_LINES:
            self.pending.append(item)
        else:
            self.dropped += 1
        if self._stop.is_set():  # the writer has finished: the few lines of the way out go at once
            self.write_pending()

    def _run(self) -> None:
        while not self._stop.wait(WRITE_SECONDS):
            self.write_pending()
        self.write_pending()

    def write_pending(self) -> None:
        lines = []
        while self.pending:
            item = self.pending.popleft()
            if isinstance(item, logging.LogRecord):
                lines.append(self.formatter.format(item))
            else:
                lines.append(
                    _request_json(item, self._second)
                    if self.json
                    else self.formatter.format(_request_record(item))
                )
        if lines:
            with suppress(
                OSError, ValueError
            ):  # a closed or broken stream: the lines are lost, not the server
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()

    def stop(self) -> None:
        """Writes what is left, unless the sink is stuck: exit waits STOP_SECONDS at most."""
        self._stop.set()
        self._thread.join(STOP_SECONDS)


class _Handler(logging.Handler):
    """Hands every other logger's records to the writer, their message and traceback made text now (the
    arguments may change once the call returns)."""

    def __init__(self, writer: _Writer) -> None:
        super().__init__()
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        record = copy.copy(record)
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.writer.put(record)


# what the request path hands the writer: (time, pid, request ID, principal, service, operation,
# method, path, status, error, seconds); formatted on the writer's thread
RequestLine = tuple[float, int, str, str, str, str, str, str, int, str, float]
_writer: _Writer | None = None  # set by configure(): request lines are `serve`'s only


def request_line(seen: Seen, method: str, path: str, status: int, seconds: float) -> None:
    """One INFO line for an answered request. All the request pays is a tuple and an append; nothing
    at all when logging is not configured (tests, tools) or INFO is off for rolehop.request."""
    writer = _writer
    if writer is None or not _requests.isEnabledFor(logging.INFO):
        return
    writer.put(
        (time.time(), os.getpid(), seen.request_id, seen.principal, seen.service, seen.operation,
         method, path[:MAX_PATH], status, seen.error, seconds)
    )  # fmt: skip


def _request_fields(line: RequestLine) -> dict[str, Any]:
    _at, _pid, request_id, principal, service, operation, method, path, status, error, seconds = line
    return {
        "request_id": request_id,
        "principal": principal,
        "service": service,
        "operation": operation,
        "method": method,
        "path": path,
        "status": status,
        "error": error,
        "duration_ms": round(seconds * 1000, 3),
    }


def _request_json(line: RequestLine, second: Callable[[float], str]) -> str:
    """The JSON line of a request, written out by hand: json.dumps of a dict costs several times as
    much, on every request. Strings a client chooses (path, method, principal, error) are escaped;
    the rest are names rolehop picks (registry names, a UUID) and numbers."""
    at, pid, request_id, principal, service, operation, method, path, status, error, seconds = line
    text = (
        f'{{"time": "{second(at)}.{int(at % 1 * 1000):03d}+00:00", "level": "INFO", '
        f'"logger": "{REQUEST_LOGGER}", "message": "{service} {operation} {status}", "pid": {pid}'
    )
    if request_id:
        text += f', "request_id": "{request_id}"'
    if principal:
        text += f', "principal": {_quoted(principal)}'
    text += (
        f', "service": "{service}", "operation": "{operation}", "method": {_quoted(method)}'
        f', "path": {_quoted(path)}, "status": {status}'
    )
    if error:
        text += f', "error": {_quoted(error)}'
    return text + f', "duration_ms": {round(seconds * 1000, 3)}}}'


def _request_record(line: RequestLine) -> logging.LogRecord:
    at, pid, _id, _principal, service, operation, _method, _path, status, _error, _seconds = line
    record = logging.makeLogRecord(
        {"name": REQUEST_LOGGER, "levelno": logging.INFO, "levelname": "INFO", "created": at, "process": pid}
        | {"msg": f"{service} {operation} {status}", "msecs": (at % 1) * 1000}
        | _request_fields(line)
    )
    return record


def drain() -> None:
    """Writes every line handed over so far, and the rest as they come, before the process ends: uvicorn
    raises SIGTERM again once it has shut down, and a process ended by a signal runs no atexit hook."""
    if _writer is not None:
        _writer.stop()


def configure(log_format: LogFormat, level: int = logging.INFO) -> None:
    """Every logger of the process (rolehop's, uvicorn's) writes to standard error in `log_format`,
    from a writer thread (see the module's docstring). Called again, it replaces its own handler and
    leaves any other (a test runner's) in place."""
    global _writer
    root = logging.getLogger()
    for earlier in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(earlier)
        earlier.writer.stop()
    _writer = _Writer(sys.stderr, log_format)
    atexit.register(_writer.stop)
    root.addHandler(_Handler(_writer))
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []  # theirs would print a second, unformatted line
        logging.getLogger(name).propagate = True
