"""A client that sends its headers and then stalls part-way through the body does not hold a request
open: after the configured body timeout it gets 408 and the connection closes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import FakeClock, LiveServer

TIMEOUT = 0.3  # the server's body timeout in these tests (30 s by default)
HEAD = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
)


@pytest.fixture
def impatient(tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "data", clock, body_timeout=TIMEOUT)
    yield live
    live.stop()


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout if it never does)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("sent", [b"Action=ListUs", b""], ids=["part of the body", "no body at all"])
def test_a_stalled_body_gets_408_and_the_connection_closes(impatient: LiveServer, sent: bytes) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=3) as sock:
        started = time.monotonic()
        sock.sendall(HEAD + sent)
        answer = until_closed(sock)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"request body not received within 0.3 seconds" in answer
    assert TIMEOUT <= waited < 2
    # the server goes on serving
    assert impatient.client("iam").list_users()["Users"] == []
