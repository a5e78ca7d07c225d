"""The audit trail for operators (`rolehop audit`): verification, which needs no secret, the signing
keys' public halves to pin, export and tail of the stored CloudTrail records, and retention now.

`verify` walks every chain in seq order, a page at a time, recomputing each link from the event's
stored fields (pipeline.trail.stored_fields), and checks every digest's signature with the public
key the operator pinned or, when none is, the one stored beside the trail (core.trail_chain
ChainCheck says what is checked, and each finding names the event and how it knows).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rolehop.core.keyring import UnsealError
from rolehop.core.trail_chain import ChainCheck, Entry, Finding, SignedDigest, key_id
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.pipeline.trail import (
    PRUNE_EVENT,
    PRUNE_SOURCE,
    SIGNING_KEY_PURPOSE,
    Pruned,
    stored_fields,
)
from rolehop.services.ports.store import Store, Tx
from rolehop.services.ports.trail import ChainHead, Digest, EventQuery, SigningKey, StoredEvent

PAGE = 5_000  # events read per query while verifying
EXPORT_PAGE = 1_000
PRUNE_RECORDS_MAX = 10_000  # prune records read to say who pruned a chain's start


@dataclass(frozen=True)
class ChainSummary:
    chain_id: str
    node: str
    started_at: datetime
    events: int  # stored (and checked)
    first_seq: int | None
    last_seq: int | None
    digests: int
    digested_through: int  # the last signed digest's last seq (0: none)
    unsigned: int  # events after it: checked, but not yet covered by a signature
    pruned_through: int  # 0: nothing pruned
    pruned_by: str | None = None  # the prune record that says so, when the trail still holds it


@dataclass
class Verification:
    chains: list[ChainSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    more_findings: int = 0  # past each chain's first FINDINGS_MAX
    warnings: list[str] = field(default_factory=list)
    pinned: bool = False  # False: the public keys were read from the store being verified
    key_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def events(self) -> int:
        return sum(c.events for c in self.chains)

    @property
    def digests(self) -> int:
        return sum(c.digests for c in self.chains)

    @property
    def unsigned(self) -> int:
        return sum(c.unsigned for c in self.chains)


def _signed(d: Digest) -> SignedDigest:
    return SignedDigest(
        d.from_seq, d.to_seq, d.last_hash, d.signed_at, d.key_id, d.previous_signature, d.signature
    )


def _entry(stored: StoredEvent) -> Entry:
    return Entry(stored.seq, stored.prev_hash, stored.hash, stored_fields(stored.event))


def verify(store: Store, *, pinned: Sequence[bytes] = (), page: int = PAGE) -> Verification:
    """Checks every chain of the trail (see the module). `pinned`: the raw Ed25519 public keys the
    operator trusts; without them, the keys stored beside the trail (which an attacker who can
    rewrite the store could have replaced: pin them)."""
    out = Verification(pinned=bool(pinned))
    # one read transaction: on SQLite a snapshot, so a node appending meanwhile changes nothing seen
    with store.transaction() as tx:
        stored_keys = tx.signing_keys()
        if pinned:
            keys = {key_id(p): p for p in pinned}
            source = "the pinned keys"
        else:
            keys = {k.key_id: k.public_key for k in stored_keys}
            source = "the store"
            for k in stored_keys:
                if key_id(k.public_key) != k.key_id:
                    out.warnings.append(f"stored signing key {k.key_id} is not the ID of its public key")
        out.key_ids = sorted(keys)
        digests: dict[str, list[SignedDigest]] = {}
        for d in tx.digests():
            digests.setdefault(d.chain_id, []).append(_signed(d))
        prunes = _prune_records(tx)
        heads = tx.chains()
        for head in heads:
            check = ChainCheck(
                head.chain_id,
                digests.pop(head.chain_id, []),
                keys,
                head=(head.seq, head.hash),
                key_source=source,
            )
            from_seq = 1
            while True:
                rows = tx.chain_events(head.chain_id, from_seq, limit=page)
                check.feed(_entry(r) for r in rows)
                if len(rows) < page:
                    break
                from_seq = rows[-1].seq + 1
            check.finish()
            out.findings += check.findings
            out.more_findings += check.more_findings
            out.chains.append(_summary(head, check, prunes, out.warnings))
        for chain_id, orphans in digests.items():  # digests of a chain whose head and events are gone
            last = max(orphans, key=lambda d: d.to_seq)
            out.findings.append(
                Finding(
                    chain_id,
                    "removed",
                    1,
                    f"the whole chain is gone: {len(orphans)} signed digest(s) cover it through seq "
                    f"{last.to_seq} (the last signed at {last.signed_at.isoformat()}), but neither its head "
                    "nor any of its events remain",
                )
            )
    return out


def _summary(
    head: ChainHead, check: ChainCheck, prunes: dict[tuple[str, int], str], warnings: list[str]
) -> ChainSummary:
    pruned_by = None
    if check.pruned_through:
        pruned_by = prunes.get((head.chain_id, check.pruned_through))
        if pruned_by is None:
            warnings.append(
                f"chain {head.chain_id} ({head.node}) starts after seq {check.pruned_through}, where a "
                "signed digest ends, as pruning leaves it; no prune record in the trail says so (it may "
                "have been pruned itself since)"
            )
    if check.unsigned:
        last = check.last.seq if check.last is not None else 0
        warnings.append(
            f"chain {head.chain_id} ({head.node}): {check.unsigned} event(s), seq "
            f"{last - check.unsigned + 1}..{last}, are not yet covered by a signed digest: their links "
            "check out, but a removal of them from the chain's end would be seen only in the chain's "
            "(unsigned) head row"
        )
    return ChainSummary(
        chain_id=head.chain_id,
        node=head.node,
        started_at=head.started_at,
        events=check.events,
        first_seq=check.first_seq,
        last_seq=check.last.seq if check.last is not None else None,
        digests=len(check.digests),
        digested_through=check.digested_through,
        unsigned=check.unsigned,
        pruned_through=check.pruned_through,
        pruned_by=pruned_by,
    )


def _prune_records(tx: Tx) -> dict[tuple[str, int], str]:
    """(chain, through seq) -> the prune record that removed that chain's events through it."""
    found: dict[tuple[str, int], str] = {}
    query = EventQuery(account_ids=None, attribute="EventName", value=PRUNE_EVENT, limit=PRUNE_RECORDS_MAX)
    for stored in tx.lookup_events(query):
        if stored.event.event_source != PRUNE_SOURCE:
            continue
        try:
            details = json.loads(stored.event.record)["serviceEventDetails"]
            where = (str(details["chainId"]), int(details["throughSeq"]))
        except (ValueError, KeyError, TypeError):
            continue
        found.setdefault(where, f"event {stored.event.event_id} at {stored.event.event_time.isoformat()}")
    return found


def public_keys(store: Store) -> list[SigningKey]:
    """The trail's signing keys, oldest first (only their public halves are of use without the ring)."""
    with store.transaction() as tx:
        return tx.signing_keys()


def export(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    account_ids: tuple[str, ...] | None = None,
    page: int = EXPORT_PAGE,
) -> Iterator[StoredEvent]:
    """The stored events from `since` to `until`, oldest first, a page (one transaction) at a time."""
    after: tuple[datetime, str, int] | None = None
    while True:
        query = EventQuery(
            account_ids=account_ids, start=since, end=until, after=after, limit=page, ascending=True
        )
        with store.transaction() as tx:
            rows = tx.lookup_events(query)
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1]
        after = (last.event.event_time, last.chain_id, last.seq)


class Tail:
    """The newest events, then every event appended after them (per chain, by seq: a record that is
    written late, with an earlier time, is not missed)."""

    def __init__(self, store: Store, *, account_ids: tuple[str, ...] | None = None) -> None:
        self._store = store
        self._accounts = account_ids
        self._seen: dict[str, int] = {}  # chain -> the last seq already shown (or skipped)

    def start(self, *, last: int, since: datetime | None = None) -> list[StoredEvent]:
        """The newest `last` events (or every one since `since`), oldest first."""
        with self._store.transaction() as tx:
            self._seen = {h.chain_id: h.seq for h in tx.chains()}
            if since is None:
                newest = (
                    tx.lookup_events(EventQuery(account_ids=self._accounts, limit=last)) if last > 0 else []
                )
                backlog = list(reversed(newest))
        if since is not None:
            backlog = list(export(self._store, since=since, account_ids=self._accounts))
        # events appended after the heads were read are the follower's
        return [e for e in backlog if e.seq <= self._seen.get(e.chain_id, 0)]

    def poll(self, limit: int = EXPORT_PAGE) -> list[StoredEvent]:
        """Events appended since the last call, in time order."""
        found: list[StoredEvent] = []
        with self._store.transaction() as tx:
            for head in tx.chains():
                seen = self._seen.get(head.chain_id, 0)
                if head.seq <= seen:
                    continue
                rows = tx.chain_events(head.chain_id, seen + 1, limit=limit)
                if rows:
                    self._seen[head.chain_id] = rows[-1].seq
                found += [r for r in rows if self._accounts is None or r.event.account_id in self._accounts]
        found.sort(key=lambda e: (e.event.event_time, e.chain_id, e.seq))
        return found


class ForeignKeyRing(Exception):
    """The key ring opens none of the trail's signing keys: it is not the servers' ring."""


def prune(rt: Runtime) -> list[Pruned]:
    """Applies the retention period now (`rolehop audit prune`), recorded in this runtime's own chain,
    which is then signed. Refused with a key ring that is not the servers' (it would sign with a key
    of its own, which a pinned verification rejects)."""
    keys = public_keys(rt.store)
    if keys and not any(_opens(rt, k) for k in keys):
        raise ForeignKeyRing(
            "this key ring opens none of the audit trail's signing keys: give the servers' key ring "
            "(--data-dir, ROLEHOP_MASTER_KEY or --master-key-command)"
        )
    done = rt.trail.prune(by="rolehop audit prune")
    rt.trail.seal_digest()
    return done


def _opens(rt: Runtime, key: SigningKey) -> bool:
    try:
        rt.ring.open(key.sealed_private, purpose=SIGNING_KEY_PURPOSE + key.key_id.encode())
    except UnsealError:
        return False
    return True
