"""The storage port of AccessDenied explanations."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class AuditTx(Protocol):
    def record_denial(self, request_id: str, at: datetime, explanation: str) -> None: ...
    def get_denial(self, request_id: str) -> tuple[datetime, str] | None: ...
