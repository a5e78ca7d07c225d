"""The storage port of Organizations' handshakes (invitations, enabling all features)."""

from __future__ import annotations

from typing import Protocol

from rolehop.core.organization import Handshake


class HandshakeTx(Protocol):
    def get_handshake(self, handshake_id: str) -> Handshake | None: ...
    def list_handshakes(self) -> list[Handshake]: ...  # oldest first
    def put_handshake(self, handshake: Handshake) -> None: ...
    def delete_handshakes(self) -> None: ...
