"""The audit trail in tests: one live server for a whole module, and CloudTrail's LookupEvents read
with a real boto3 client (every page)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.auth
import pytest

from support import FakeClock, LiveServer


@contextmanager
def module_server(data_dir: Path, database_url: str | None = None) -> Iterator[LiveServer]:
    """A LiveServer and its FakeClock, which botocore signs with, for a module's tests to share."""
    clock = FakeClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: clock.now.replace(tzinfo=None)
        )
        live = LiveServer(data_dir, clock, database_url=database_url)
        try:
            yield live
        finally:
            live.stop()


def lookup_all(cloudtrail: Any, key: str | None = None, value: str | None = None, **kwargs: Any) -> list[Any]:
    """Every event LookupEvents returns for one attribute (all pages), newest first."""
    if key is not None:
        kwargs["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    events: list[Any] = []
    for page in cloudtrail.get_paginator("lookup_events").paginate(**kwargs):
        events += page["Events"]
    return events


def record(event: dict[str, Any]) -> dict[str, Any]:
    """The CloudTrail record of a LookupEvents event."""
    parsed: dict[str, Any] = json.loads(event["CloudTrailEvent"])
    return parsed


def by_request(events: list[Any], request_id: str) -> list[dict[str, Any]]:
    """The records of one request (two for a cross-account AssumeRole)."""
    return [r for r in map(record, events) if r["requestID"] == request_id]
