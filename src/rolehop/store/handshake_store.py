"""SQL storage of Organizations' handshakes (implements services.ports.handshakes.HandshakeTx)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    Row,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from rolehop.core.organization import Handshake, HandshakeParty
from rolehop.store.rows import row_dict
from rolehop.store.schema import metadata

handshakes = Table(
    "handshakes",
    metadata,
    Column("handshake_id", String(40), primary_key=True),
    Column("action", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("parties", Text, nullable=False),  # [[id, type], …]
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("resources", Text, nullable=False),
    Column("parent_handshake_id", String(40)),
)
Index("ix_handshakes_requested", handshakes.c.requested_at)


def _handshake(row: Row[Any]) -> Handshake:
    values = row_dict(row)
    values["parties"] = tuple(HandshakeParty(i, t) for i, t in json.loads(values["parties"]))
    return Handshake(**values)


class HandshakeSqlMixin:
    c: Connection

    def get_handshake(self, handshake_id: str) -> Handshake | None:
        row = self.c.execute(select(handshakes).where(handshakes.c.handshake_id == handshake_id)).first()
        return _handshake(row) if row else None

    def list_handshakes(self) -> list[Handshake]:
        q = select(handshakes).order_by(handshakes.c.requested_at, handshakes.c.handshake_id)
        return [_handshake(r) for r in self.c.execute(q)]

    def put_handshake(self, handshake: Handshake) -> None:
        values = {f: getattr(handshake, f) for f in Handshake.__dataclass_fields__}
        values["parties"] = json.dumps([[p.party_id, p.party_type] for p in handshake.parties])
        where = handshakes.c.handshake_id == handshake.handshake_id
        if self.c.execute(update(handshakes).where(where).values(values)).rowcount == 0:
            self.c.execute(insert(handshakes).values(values))

    def delete_handshakes(self) -> None:
        self.c.execute(delete(handshakes))
