"""Requests raced against each other: real concurrency from threads, each with its own client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError


def race(calls: Sequence[Callable[[], object]]) -> list[str]:
    """Runs the calls at once, one thread each, all released together. Each outcome is "ok" or the AWS
    error code; a 5xx fails the test, since losing a race is the client's concern, not a fault."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> str:
        start.wait()
        try:
            call()
        except ClientError as e:
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert status < 500, e.response["Error"]
            return str(e.response["Error"]["Code"])
        return "ok"

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))
