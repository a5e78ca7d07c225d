"""The storage port of AccessDenied explanations.

Identical denials (same fingerprint) within a window are one aggregate: the first one's explanation
with a count and the first and last request; a bounded number of the repeats' request IDs map to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OpenDenial:
    """The latest aggregate of a fingerprint: its first request and how many denials it counts."""

    first_request_id: str
    count: int


@dataclass(frozen=True)
class DenialRecord:
    """What is kept about one denied request: its own time, and the aggregate it belongs to."""

    request_id: str
    at: datetime
    explanation: str  # the first denial's, as JSON
    first_request_id: str
    first_at: datetime
    last_request_id: str
    last_at: datetime
    count: int


class AuditTx(Protocol):
    def open_denial(self, fingerprint: str, since: datetime) -> OpenDenial | None: ...
    def record_denial(self, request_id: str, at: datetime, fingerprint: str, explanation: str) -> None: ...
    def repeat_denial(
        self, first_request_id: str, request_id: str, at: datetime, *, keep_id: bool
    ) -> None: ...
    def get_denial(self, request_id: str) -> DenialRecord | None: ...
