"""A TCP proxy for fault tests: put it between rolehop and PostgreSQL, then cut it (every connection
closed, new ones refused), stall it (new connections accepted, never answered) or make it answer as
a PostgreSQL that is starting up, and restore it, without touching the machine's PostgreSQL."""

from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress
from typing import Literal

Mode = Literal["open", "cut", "stall", "starting"]

# what PostgreSQL answers a connection while it starts up (or recovers from a crash): a FATAL
# ErrorResponse with SQLSTATE 57P03 (protocol: Message Formats, ErrorResponse)
_FIELDS = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
STARTING_UP = b"E" + struct.pack("!I", 4 + len(_FIELDS)) + _FIELDS
_ENCRYPTION_REQUESTS = (80877103, 80877104)  # SSLRequest, GSSENCRequest: answered "N" (not here)


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._mode: Mode = "open"
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._listen()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cut(self) -> None:
        """As if the database went away: open connections reset, new ones refused."""
        with self._lock:
            self._mode = "cut"
            listener, self._listener = self._listener, None
            doomed, self._sockets = self._sockets, set()
        if listener is not None:
            _close(listener)  # nothing listens on the port now: connecting is refused at once
        for s in doomed:
            _close(s)

    def stall(self) -> None:
        """As if the database hung: new connections are accepted and never answered."""
        with self._lock:
            self._mode = "stall"

    def starting_up(self) -> None:
        """As if the database were restarting: new connections are refused by PostgreSQL's own answer."""
        with self._lock:
            self._mode = "starting"

    def restore(self) -> None:
        with self._lock:
            self._mode = "open"
            listening = self._listener is not None
        if not listening:
            self._listen()

    def close(self) -> None:
        self.cut()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # the same port again after a cut
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener was closed
            with self._lock:
                mode = self._mode
                self._sockets.add(client)
            if mode == "open":
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()
            elif mode == "starting":
                threading.Thread(target=_starting_up, args=(client,), daemon=True).start()
            # stalled: the client waits for an answer that never comes (its own timeout must end it)

    def _connect(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        server.settimeout(None)
        with self._lock:
            if client not in self._sockets:  # cut meanwhile
                _close(server)
                return
            self._sockets.add(server)
        threading.Thread(target=_pump, args=(client, server), daemon=True).start()
        threading.Thread(target=_pump, args=(server, client), daemon=True).start()


def _starting_up(client: socket.socket) -> None:
    """Reads the client's startup packet (after declining encryption) and answers 57P03."""
    try:
        while True:
            (length,) = struct.unpack("!I", _read(client, 4))
            packet = _read(client, length - 4)
            if len(packet) == 4 and struct.unpack("!I", packet)[0] in _ENCRYPTION_REQUESTS:
                client.sendall(b"N")
                continue
            client.sendall(STARTING_UP)
            break
    except OSError:
        pass
    _close(client)


def _read(s: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = s.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    _close(source)
    _close(sink)


def _close(s: socket.socket) -> None:
    with suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        s.close()
