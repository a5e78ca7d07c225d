"""The audit trail's writer: this node's hash chain of CloudTrail records.

A change's record is appended in the change's own transaction (`append`): no change is committed
without its record. Reads, STS calls and refused calls are recorded in memory (`record`, a list
append on the request's path) and written in one transaction per batch by a thread of the trail's
own, every FLUSH_SECONDS or as soon as BATCH_MAX wait; `close()` (a clean shutdown) writes the
rest. A crash loses at most the records of the last FLUSH_SECONDS (docs/decisions.md).

Appending locks the chain's head row first, so the node's writers link their records one after the
other; other nodes have chains of their own and never wait for this one.

Tamper evidence: the same thread signs a digest of the chain's new events every DIGEST_SECONDS (and
`close()` signs the last ones) with the store's Ed25519 signing key, whose private half is sealed
with the key ring (created on first use). Retention: at most once every PRUNE_SECONDS it deletes, per
chain, the events through the end of the newest digest signed before the retention period, whole
digested ranges only so that what remains still verifies (services.admin.audit), and records each
prune as an event of its own (PRUNE_SOURCE / PRUNE_EVENT, a service event no AWS service emits).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rolehop.core.keyring import KeyRing, UnsealError
from rolehop.core.trail_chain import canonical, digest_payload, key_id, link, public_key_of, sign
from rolehop.services.pipeline.caches import Clock
from rolehop.services.ports.store import Store
from rolehop.services.ports.trail import ChainHead, Digest, SigningKey, StoredEvent, TrailEvent, TrailTx

log = logging.getLogger("rolehop.trail")
FLUSH_SECONDS = 1.0
BATCH_MAX = 250  # a full batch is written at once, not at the next tick
PENDING_MAX = 200_000  # past it (the store out of reach for long), the oldest records are dropped
DIGEST_SECONDS = 60.0  # a chain's new events are signed within a minute (CloudTrail's digests: an hour)
PRUNE_SECONDS = 3600.0  # retention is applied at most once an hour by each node
PRUNE_BATCH = 50_000  # events deleted per transaction (whole digested ranges: one at least)
DEFAULT_RETENTION_DAYS = 90
SIGNING_KEY_PURPOSE = b"rolehop-trail-signing-key:"  # + the key's ID: what the key ring's seal binds
# The prune's own record: a service event from a source that is no AWS service's (not *.amazonaws.com)
PRUNE_SOURCE = "audit.rolehop.internal"
PRUNE_EVENT = "PruneEvents"
RECORD_VERSION = "1.11"  # trail_records.EVENT_VERSION (which imports what imports this module)


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def stored_fields(event: TrailEvent) -> dict[str, Any]:
    """Every field the store keeps of an event, as the chain's links cover them (written out:
    dataclasses.asdict deep-copies, and cost 80 us an event)."""
    return {
        "event_id": event.event_id,
        "request_id": event.request_id,
        "event_time": event.event_time.isoformat(),
        "account_id": event.account_id,
        "region": event.region,
        "event_source": event.event_source,
        "event_name": event.event_name,
        "read_only": event.read_only,
        "username": event.username,
        "access_key_id": event.access_key_id,
        "principal_arn": event.principal_arn,
        "error_code": event.error_code,
        "record": event.record,
        "resources": [[r.type, r.name] for r in event.resources],
        "explanation": event.explanation,
    }


def chained(head: ChainHead, events: Sequence[TrailEvent]) -> list[StoredEvent]:
    """`events` linked after `head`, in order."""
    out = []
    seq, prev = head.seq, head.hash
    for event in events:
        seq += 1
        this = link(prev, head.chain_id, seq, stored_fields(event))
        out.append(StoredEvent(head.chain_id, seq, event, prev, this))
        prev = this
    return out


@dataclass(frozen=True)
class Pruned:
    """One prune step: a chain's events through `through_seq` deleted, with the digests before it."""

    chain_id: str
    through_seq: int
    events_removed: int
    digests_removed: int
    anchor_signed_at: datetime  # the digest that ends at through_seq, kept: the rest's signed anchor
    event_id: str  # the prune's own record


class Trail:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        node: str | None = None,
        enabled: bool = True,
        ring: KeyRing | None = None,
        random: Callable[[int], bytes] = os.urandom,
        digest_seconds: float = DIGEST_SECONDS,
        prune_seconds: float = PRUNE_SECONDS,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        account_id: str = "",
        region: str = "us-east-1",
    ) -> None:
        self.enabled = enabled  # off: nothing is recorded (to measure what the trail costs)
        self._store = store
        self._clock = clock
        self.node = node or node_name()
        self.chain_id = uuid.uuid4().hex
        # digests (no key ring: none are signed) and retention, run by the batch thread
        self._ring = ring
        self._random = random
        self.digest_seconds = digest_seconds
        self.prune_seconds = prune_seconds
        self.retention_days = retention_days
        self.account_id = account_id  # the management account: whose event history shows a prune
        self.region = region
        self._signer: tuple[str, bytes] | None = None  # (key ID, raw private key) once opened
        self._sealing = threading.Lock()  # one digest at a time
        self._pruning = threading.Lock()
        self._next_digest = time.monotonic() + digest_seconds
        self._next_prune = time.monotonic() + digest_seconds  # first a minute after start, then hourly
        self._pending: list[TrailEvent] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one batch at a time, in order
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.dropped = 0

    # writing
    def append(self, tx: TrailTx, events: Sequence[TrailEvent]) -> None:
        """Appends `events` to this node's chain in the caller's transaction."""
        if not events or not self.enabled:
            return
        self._append(tx, events)

    def _append(self, tx: TrailTx, events: Sequence[TrailEvent]) -> None:
        head = tx.lock_chain(self.chain_id)
        if head is None:
            tx.start_chain(self.chain_id, self.node, self._clock())
            head = tx.lock_chain(self.chain_id)
            assert head is not None
        tx.append_events(head, chained(head, events))

    def record(self, events: Sequence[TrailEvent]) -> None:
        """Keeps `events` for the next batch (called on the request's path: no I/O)."""
        if not self.enabled:
            return
        with self._lock:
            self._pending.extend(events)
            overflow = len(self._pending) - PENDING_MAX
            if overflow > 0:
                del self._pending[:overflow]
                self.dropped += overflow
            full = len(self._pending) >= BATCH_MAX
        if self._thread is None:
            self._start()
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Writes every waiting record now (before a read of the trail, and at shutdown)."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                with self._store.transaction() as tx:
                    self.append(tx, batch)
            except BaseException:
                with self._lock:  # not written: they wait for the next batch, before newer ones
                    self._pending = batch + self._pending
                raise
            return len(batch)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.flush()
        except Exception:
            log.exception("the trail's last %d records could not be written", len(self._pending))
            return
        try:
            self.seal_digest()  # the chain's last events: a clean shutdown leaves nothing unsigned
        except Exception:
            log.exception("the trail's last digest could not be signed")

    # the batch thread
    def start(self) -> None:
        """Starts the batch thread now (a serving node: digests and retention run even when idle);
        otherwise it starts with the first record."""
        if self._thread is None and not self._closed:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=_flush_loop, args=(weakref.ref(self), self._wake), name="rolehop-trail", daemon=True
            )
        self._thread.start()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    # digests
    def seal_digest(self) -> Digest | None:
        """Writes the waiting records, then signs a digest of this chain's events that no digest
        covers yet; None when there are none (or the trail has no key ring)."""
        if self._ring is None:
            return None
        self.flush()
        with self._sealing:
            with self._store.transaction() as tx:
                head = tx.lock_chain(self.chain_id)  # the head cannot move while it is signed
                if head is None:
                    return None
                previous = tx.last_digest(self.chain_id)
                done = previous.to_seq if previous is not None else 0
                if head.seq <= done:
                    return None
                signer_id, private = self._signing_key(tx)
                signed_at = self._clock().astimezone(UTC)
                before = previous.signature if previous is not None else ""
                payload = digest_payload(self.chain_id, done + 1, head.seq, head.hash, signed_at, before)
                digest = Digest(
                    chain_id=self.chain_id,
                    from_seq=done + 1,
                    to_seq=head.seq,
                    last_hash=head.hash,
                    signed_at=signed_at,
                    key_id=signer_id,
                    previous_signature=before,
                    signature=sign(private, payload),
                )
                tx.add_digest(digest)
            return digest

    def _signing_key(self, tx: TrailTx) -> tuple[str, bytes]:
        """The store's signing key (the oldest this key ring opens), created on first use."""
        ring = self._ring
        assert ring is not None
        stored = tx.signing_keys()  # a few rows, read each time: a key gone from the store is not used
        if self._signer is not None and any(k.key_id == self._signer[0] for k in stored):
            return self._signer
        for key in stored:
            try:
                _kid, private = ring.open(
                    key.sealed_private, purpose=SIGNING_KEY_PURPOSE + key.key_id.encode()
                )
            except UnsealError:
                continue
            if public_key_of(private) == key.public_key:
                self._signer = (key.key_id, private)
                return self._signer
        if stored:
            log.warning(
                "no stored trail signing key opens with this key ring (was its key retired?): a new one "
                "signs from now on; pin its public key (`rolehop audit public-key`)"
            )
        private = self._random(32)
        public = public_key_of(private)
        new_id = key_id(public)
        sealed = ring.seal(private, purpose=SIGNING_KEY_PURPOSE + new_id.encode(), nonce=self._random(12))
        tx.add_signing_key(SigningKey(new_id, public, sealed, self._clock()))
        self._signer = (new_id, private)
        return self._signer

    # retention
    def prune(self, *, by: str | None = None) -> list[Pruned]:
        """Applies retention now: per chain, deletes the events through the end of the newest digest
        signed before now - retention_days (and the digests before that one), a batch at a time, each
        batch in one transaction with its own record. Returns what was removed."""
        cutoff = self._clock() - timedelta(days=self.retention_days)
        done: list[Pruned] = []
        with self._pruning:
            with self._store.transaction() as tx:
                chains = [c.chain_id for c in tx.chains()]
            for chain_id in chains:
                while (step := self._prune_step(chain_id, cutoff, by or self.node)) is not None:
                    done.append(step)
        return done

    def _prune_step(self, chain_id: str, cutoff: datetime, by: str) -> Pruned | None:
        with self._store.transaction() as tx:
            old = [d for d in tx.digests(chain_id) if d.signed_at <= cutoff]
            if not old:
                return None
            first = tx.chain_events(chain_id, 1, limit=1)
            start = first[0].seq if first else None
            if start is None or start == old[-1].to_seq + 1:
                anchor = old[-1]  # its events are gone already: only digests before it may remain
            elif start > old[-1].to_seq:
                return None  # pruned through a newer digest already (a clock set back meanwhile)
            else:
                covering = [d for d in old if d.to_seq >= start]
                fits = [d for d in covering if d.to_seq - start + 1 <= PRUNE_BATCH]
                anchor = fits[-1] if fits else covering[0]
            events = tx.prune_chain(chain_id, anchor.to_seq) if start is not None else 0
            digests = tx.prune_digests(chain_id, anchor.to_seq)
            if not events and not digests:
                return None
            event_id = str(uuid.UUID(bytes=self._random(16), version=4))
            pruned = Pruned(chain_id, anchor.to_seq, events, digests, anchor.signed_at, event_id)
            self._append(tx, [self._prune_record(pruned, cutoff, by)])
        log.info(
            "audit trail retention: removed %d events of chain %s through seq %d",
            events,
            chain_id,
            anchor.to_seq,
        )
        return pruned

    def _prune_record(self, pruned: Pruned, cutoff: datetime, by: str) -> TrailEvent:
        now = self._clock()
        account = self.account_id
        record = {
            "eventVersion": RECORD_VERSION,
            "userIdentity": {"type": "AWSService", "accountId": account, "invokedBy": PRUNE_SOURCE},
            "eventTime": _trail_time(now),
            "eventSource": PRUNE_SOURCE,
            "eventName": PRUNE_EVENT,
            "awsRegion": self.region,
            "sourceIPAddress": PRUNE_SOURCE,
            "userAgent": by,
            "requestParameters": None,
            "responseElements": None,
            "eventID": pruned.event_id,
            "readOnly": False,
            "eventType": "AwsServiceEvent",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
            "serviceEventDetails": {
                "chainId": pruned.chain_id,
                "throughSeq": pruned.through_seq,
                "eventsRemoved": pruned.events_removed,
                "digestsRemoved": pruned.digests_removed,
                "anchorDigestSignedAt": _trail_time(pruned.anchor_signed_at),
                "retentionDays": self.retention_days,
                "cutoff": _trail_time(cutoff),
                "prunedBy": by,
            },
        }
        return TrailEvent(
            event_id=pruned.event_id,
            request_id=None,
            event_time=now,
            account_id=account,
            region=self.region,
            event_source=PRUNE_SOURCE,
            event_name=PRUNE_EVENT,
            read_only=False,
            username=None,
            access_key_id=None,
            principal_arn=None,
            error_code=None,
            record=canonical(record),
        )

    def _maintain(self) -> None:
        """The batch thread's periodic work: a digest every digest_seconds, retention every prune_seconds."""
        now = time.monotonic()
        if now >= self._next_digest:
            self._next_digest = now + self.digest_seconds
            try:
                self.seal_digest()
            except Exception:
                log.warning("the trail's digest could not be signed; retrying", exc_info=True)
        if now >= self._next_prune:
            self._next_prune = now + self.prune_seconds
            try:
                self.prune()
            except Exception:
                log.warning("the trail's retention could not be applied; retrying", exc_info=True)


def _trail_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _flush_loop(trail_ref: weakref.ref[Trail], wake: threading.Event) -> None:
    """Writes batches until the trail is closed or forgotten (holding it only weakly: a runtime that
    is dropped, as tests drop theirs, takes its thread with it)."""
    while True:
        wake.wait(FLUSH_SECONDS)
        wake.clear()
        trail = trail_ref()
        if trail is None or trail._closed:
            return
        try:
            trail.flush()
        except Exception:
            log.warning("the trail's batch of records could not be written; retrying", exc_info=True)
        trail._maintain()
        del trail
