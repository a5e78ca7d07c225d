"""SQL storage of the audit trail (implements services.ports.trail.TrailTx).

`trail_events` is append-only: rows are inserted, never updated, and deleted only by pruning whole
digested ranges. `trail_chains` holds each node's chain and its head, which every appending
transaction locks first. Every lookup attribute of CloudTrail's LookupEvents has an index with the
event's time, so a page of the newest events is an index range scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Row,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from rolehop.core.trail_chain import GENESIS
from rolehop.services.ports.trail import (
    Access,
    ChainHead,
    Digest,
    EventQuery,
    LastUse,
    Resource,
    SigningKey,
    StoredEvent,
    TrailEvent,
)
from rolehop.store.conflicts import is_duplicate
from rolehop.store.rows import utc
from rolehop.store.schema import metadata

TS = DateTime(timezone=True)

trail_chains = Table(
    "trail_chains",
    metadata,
    Column("chain_id", String(64), primary_key=True),
    Column("node", String(255), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

trail_events = Table(
    "trail_events",
    metadata,
    Column("chain_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("request_id", String(64), nullable=True, index=True),
    Column("event_time", TS, nullable=False, index=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(32), nullable=False),
    Column("event_source", String(128), nullable=False),
    Column("event_name", String(128), nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("username", String(256), nullable=True),
    Column("access_key_id", String(128), nullable=True),
    Column("principal_arn", String(2048), nullable=True),
    Column("error_code", String(128), nullable=True),
    Column("record", Text, nullable=False),
    Column("explanation", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_trail_events_account_time", "account_id", "event_time"),
    Index("ix_trail_events_name_time", "event_name", "event_time"),
    Index("ix_trail_events_source_time", "event_source", "event_time"),
    Index("ix_trail_events_username_time", "username", "event_time"),
    Index("ix_trail_events_key_time", "access_key_id", "event_time"),
    Index("ix_trail_events_principal_time", "principal_arn", "event_time"),
)

trail_resources = Table(
    "trail_resources",
    metadata,
    Column("chain_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("resource_type", String(128), nullable=False, index=True),
    Column("resource_name", String(2048), nullable=False, index=True),
)

trail_digests = Table(
    "trail_digests",
    metadata,
    Column("chain_id", String(64), primary_key=True),
    Column("to_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("from_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("signed_at", TS, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("previous_signature", String(256), nullable=False),
    Column("signature", String(256), nullable=False),
)

trail_signing_keys = Table(
    "trail_signing_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("sealed_private", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False),
)

# LookupEvents' attributes -> the column each is an equality on (ReadOnly and the resources aside)
_ATTRIBUTE_COLUMNS = {
    "EventId": trail_events.c.event_id,
    "EventName": trail_events.c.event_name,
    "Username": trail_events.c.username,
    "EventSource": trail_events.c.event_source,
    "AccessKeyId": trail_events.c.access_key_id,
    "PrincipalArn": trail_events.c.principal_arn,
}


def _utc(value: datetime) -> datetime:
    out = utc(value)
    assert out is not None
    return out


class TrailSqlMixin:
    c: Connection

    # chains
    def start_chain(self, chain_id: str, node: str, started_at: datetime) -> None:
        try:
            with self.c.begin_nested():
                self.c.execute(
                    insert(trail_chains).values(
                        chain_id=chain_id, node=node, started_at=started_at, seq=0, hash=GENESIS
                    )
                )
        except IntegrityError as e:
            if not is_duplicate(e):
                raise  # started by another of this node's threads meanwhile: theirs is the one

    def lock_chain(self, chain_id: str) -> ChainHead | None:
        row = self.c.execute(
            select(trail_chains).where(trail_chains.c.chain_id == chain_id).with_for_update()
        ).first()
        return _head(row) if row is not None else None

    def append_events(self, head: ChainHead, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        self.c.execute(insert(trail_events), [_event_values(e) for e in events])
        resources = [
            {
                "chain_id": e.chain_id,
                "seq": e.seq,
                "position": i,
                "resource_type": r.type,
                "resource_name": r.name,
            }
            for e in events
            for i, r in enumerate(e.event.resources)
        ]
        if resources:
            self.c.execute(insert(trail_resources), resources)
        last = events[-1]
        self.c.execute(
            update(trail_chains)
            .where(trail_chains.c.chain_id == head.chain_id)
            .values(seq=last.seq, hash=last.hash)
            .execution_options(rolehop_bookkeeping=True)  # no cache holds the trail: no version bump
        )

    def chains(self) -> list[ChainHead]:
        rows = self.c.execute(
            select(trail_chains).order_by(trail_chains.c.started_at, trail_chains.c.chain_id)
        )
        return [_head(r) for r in rows]

    def chain_events(self, chain_id: str, from_seq: int = 1, limit: int = 10_000) -> list[StoredEvent]:
        e = trail_events.c
        rows = self.c.execute(
            select(trail_events).where(e.chain_id == chain_id, e.seq >= from_seq).order_by(e.seq).limit(limit)
        ).all()
        return self._stored(rows)

    def lookup_events(self, query: EventQuery) -> list[StoredEvent]:
        e = trail_events.c
        found = select(trail_events)
        if query.account_ids is not None:
            found = found.where(e.account_id.in_(query.account_ids))
        if query.attribute is not None and query.value is not None:
            found = found.where(_attribute_filter(query.attribute, query.value))
        if query.start is not None:
            found = found.where(e.event_time >= query.start)
        if query.end is not None:
            found = found.where(e.event_time <= query.end)
        position = tuple_(e.event_time, e.chain_id, e.seq)
        if query.after is not None:
            found = found.where(
                position > tuple_(*query.after) if query.ascending else position < tuple_(*query.after)
            )
        if query.ascending:
            found = found.order_by(e.event_time, e.chain_id, e.seq)
        else:
            found = found.order_by(e.event_time.desc(), e.chain_id.desc(), e.seq.desc())
        return self._stored(self.c.execute(found.limit(query.limit)).all())

    def event_by_request(self, request_id: str) -> StoredEvent | None:
        rows = self.c.execute(
            select(trail_events)
            .where(trail_events.c.request_id == request_id)
            .order_by(trail_events.c.seq)
            .limit(1)
        ).all()
        stored = self._stored(rows)
        return stored[0] if stored else None

    # digests and keys
    def add_digest(self, digest: Digest) -> None:
        self.c.execute(insert(trail_digests).values(**digest.__dict__))

    def digests(self, chain_id: str | None = None) -> list[Digest]:
        d = trail_digests.c
        found = select(trail_digests).order_by(d.chain_id, d.to_seq)
        if chain_id is not None:
            found = found.where(d.chain_id == chain_id)
        out = []
        for row in self.c.execute(found):
            values = dict(row._mapping)
            values["signed_at"] = _utc(values["signed_at"])
            out.append(Digest(**values))
        return out

    def add_signing_key(self, key: SigningKey) -> None:
        self.c.execute(insert(trail_signing_keys).values(**key.__dict__))

    def signing_keys(self) -> list[SigningKey]:
        rows = self.c.execute(select(trail_signing_keys).order_by(trail_signing_keys.c.created_at))
        return [
            SigningKey(r.key_id, bytes(r.public_key), bytes(r.sealed_private), _utc(r.created_at))
            for r in rows
        ]

    def reseal_signing_key(self, key_id: str, sealed_private: bytes) -> None:
        k = trail_signing_keys.c
        self.c.execute(
            update(trail_signing_keys)
            .where(k.key_id == key_id)
            .values(sealed_private=sealed_private)
            .execution_options(rolehop_bookkeeping=True)  # no cache holds it: no version bump
        )

    # retention
    def prune_chain(self, chain_id: str, through_seq: int) -> int:
        r = trail_resources.c
        self.c.execute(delete(trail_resources).where(r.chain_id == chain_id, r.seq <= through_seq))
        e = trail_events.c
        return int(
            self.c.execute(delete(trail_events).where(e.chain_id == chain_id, e.seq <= through_seq)).rowcount
        )

    def _stored(self, rows: Sequence[Row[Any]]) -> list[StoredEvent]:
        if not rows:
            return []
        r = trail_resources.c
        keys = [(row.chain_id, row.seq) for row in rows]
        resources: dict[tuple[str, int], list[Resource]] = {}
        for res in self.c.execute(
            select(trail_resources).where(tuple_(r.chain_id, r.seq).in_(keys)).order_by(r.position)
        ):
            resources.setdefault((res.chain_id, res.seq), []).append(
                Resource(res.resource_type, res.resource_name)
            )
        return [_stored(row, tuple(resources.get((row.chain_id, row.seq), ()))) for row in rows]

    # retention of digests (after the events they cover were pruned)
    def prune_digests(self, chain_id: str, before_seq: int) -> int:
        d = trail_digests.c
        before = delete(trail_digests).where(d.chain_id == chain_id, d.to_seq < before_seq)
        return int(self.c.execute(before).rowcount)

    def last_digest(self, chain_id: str) -> Digest | None:
        d = trail_digests.c
        row = self.c.execute(
            select(trail_digests).where(d.chain_id == chain_id).order_by(d.to_seq.desc()).limit(1)
        ).first()
        if row is None:
            return None
        values = dict(row._mapping)
        values["signed_at"] = _utc(values["signed_at"])
        return Digest(**values)

    # last used, batched
    def last_attempts_by_key(self, access_key_ids: Sequence[str]) -> dict[str, LastUse]:
        return self._newest(trail_events.c.access_key_id, access_key_ids)

    def last_attempts_by_principal(self, principal_arns: Sequence[str]) -> dict[str, LastUse]:
        return self._newest(trail_events.c.principal_arn, principal_arns)

    def last_events_of(self, principal_arns: Sequence[str], event_name: str) -> dict[str, LastUse]:
        e = trail_events.c
        return self._newest(
            e.principal_arn, principal_arns, e.event_name == event_name, e.error_code.is_(None)
        )

    def last_accesses(self, principal_arns: Sequence[str], event_sources: Sequence[str]) -> list[Access]:
        if not principal_arns or not event_sources:
            return []
        e = trail_events.c
        keys = (e.principal_arn, e.event_source, e.event_name)
        where = (e.principal_arn.in_(set(principal_arns)), e.event_source.in_(set(event_sources)))
        newest = select(*keys, func.max(e.event_time).label("at")).where(*where).group_by(*keys).subquery()
        rows = self.c.execute(
            select(*keys, e.event_time, e.region)
            .join(
                newest,
                and_(
                    e.principal_arn == newest.c.principal_arn,
                    e.event_source == newest.c.event_source,
                    e.event_name == newest.c.event_name,
                    e.event_time == newest.c.at,
                ),
            )
            .where(*where)
            .order_by(e.chain_id, e.seq)
        )
        found: dict[tuple[str, str, str], Access] = {}
        for r in rows:  # events of one second tie: the last one written wins
            found[(r.principal_arn, r.event_source, r.event_name)] = Access(
                r.principal_arn, r.event_source, r.event_name, _utc(r.event_time), r.region
            )
        return list(found.values())

    def _newest(self, key: Any, values: Sequence[str], *conditions: Any) -> dict[str, LastUse]:
        """The newest event (meeting `conditions`) of each of `values` of column `key`."""
        if not values:
            return {}
        e = trail_events.c
        where = (key.in_(set(values)), *conditions)
        newest = (
            select(key.label("k"), func.max(e.event_time).label("at")).where(*where).group_by(key).subquery()
        )
        rows = self.c.execute(
            select(key.label("k"), e.event_time, e.region, e.event_source)
            .join(newest, and_(key == newest.c.k, e.event_time == newest.c.at))
            .where(*where)
            .order_by(e.chain_id, e.seq)
        )
        return {r.k: LastUse(_utc(r.event_time), r.region, r.event_source) for r in rows}

    def events_explained(
        self, principal_arn: str | None, start: datetime, end: datetime, explanation: str
    ) -> tuple[int, StoredEvent | None]:
        e = trail_events.c
        where = and_(
            e.principal_arn.is_(None) if principal_arn is None else e.principal_arn == principal_arn,
            e.event_time >= start,
            e.event_time <= end,
            e.explanation == explanation,
        )
        count = int(self.c.execute(select(func.count()).select_from(trail_events).where(where)).scalar_one())
        if not count:
            return 0, None
        newest = self.c.execute(
            select(trail_events)
            .where(where)
            .order_by(e.event_time.desc(), e.chain_id.desc(), e.seq.desc())
            .limit(1)
        ).all()
        return count, self._stored(newest)[0]


def _attribute_filter(attribute: str, value: str) -> Any:
    e = trail_events.c
    if attribute == "ReadOnly":
        return e.read_only == (value.lower() == "true")
    if attribute in ("ResourceType", "ResourceName"):
        r = trail_resources.c
        column = r.resource_type if attribute == "ResourceType" else r.resource_name
        matching = select(r.chain_id, r.seq).where(column == value)
        return tuple_(e.chain_id, e.seq).in_(matching)
    return _ATTRIBUTE_COLUMNS[attribute] == value


def _event_values(stored: StoredEvent) -> dict[str, Any]:
    ev = stored.event
    return {
        "chain_id": stored.chain_id,
        "seq": stored.seq,
        "event_id": ev.event_id,
        "request_id": ev.request_id,
        "event_time": ev.event_time,
        "account_id": ev.account_id,
        "region": ev.region,
        "event_source": ev.event_source,
        "event_name": ev.event_name,
        "read_only": ev.read_only,
        "username": ev.username,
        "access_key_id": ev.access_key_id,
        "principal_arn": ev.principal_arn,
        "error_code": ev.error_code,
        "record": ev.record,
        "explanation": ev.explanation,
        "prev_hash": stored.prev_hash,
        "hash": stored.hash,
    }


def _stored(row: Row[Any], resources: tuple[Resource, ...]) -> StoredEvent:
    event = TrailEvent(
        event_id=row.event_id,
        request_id=row.request_id,
        event_time=_utc(row.event_time),
        account_id=row.account_id,
        region=row.region,
        event_source=row.event_source,
        event_name=row.event_name,
        read_only=bool(row.read_only),
        username=row.username,
        access_key_id=row.access_key_id,
        principal_arn=row.principal_arn,
        error_code=row.error_code,
        record=row.record,
        resources=resources,
        explanation=row.explanation,
    )
    return StoredEvent(row.chain_id, int(row.seq), event, row.prev_hash, row.hash)


def _head(row: Row[Any]) -> ChainHead:
    return ChainHead(row.chain_id, row.node, _utc(row.started_at), int(row.seq), row.hash)
