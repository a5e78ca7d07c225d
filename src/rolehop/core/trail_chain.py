"""The audit trail's hash chain: how an event is linked to the one before it, and what a digest signs.

Each link is SHA-256 over the previous link, the chain's ID, the event's position and every field
the store keeps of it (the CloudTrail record and the columns it is looked up by), so altering any of
them, removing an event or swapping two breaks the chain from there on. Digests sign a chain's last
link with Ed25519 (CloudTrail's digest files do the same with RSA), which nobody without the key
ring can forge, so the end of a chain cannot be cut off or rewritten unnoticed either.

Verification (`ChainCheck`) needs only the public key: it recomputes every link from the stored
fields, checks positions and links join, every digest's signature and its place in the chain of
digests, and names the event altered, removed, reordered or cut off, and how it knows.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

GENESIS = "0" * 64  # the link before a chain's first event


def canonical(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, non-ASCII kept (orjson: the trail's
    records and links are encoded on every request, and orjson does it ~8x faster than json, to the
    same bytes for the strings, integers, booleans, lists and objects the trail holds)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=_default).decode()


def _default(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


def link(prev_hash: str, chain_id: str, seq: int, fields: Mapping[str, Any]) -> str:
    """The link of the event at `seq` whose stored fields are `fields` (plain JSON values and times)."""
    text = canonical([prev_hash, chain_id, seq, fields])
    return hashlib.sha256(text.encode()).hexdigest()


def digest_payload(
    chain_id: str, from_seq: int, to_seq: int, last_hash: str, signed_at: datetime, previous_signature: str
) -> bytes:
    """What a digest's signature covers; each digest also covers the previous one's signature."""
    return canonical(
        {
            "chain": chain_id,
            "from": from_seq,
            "to": to_seq,
            "last": last_hash,
            "at": signed_at.isoformat(),
            "previous": previous_signature,
        }
    ).encode()


# Digest signatures: Ed25519, whose public half verifies without any secret.
SIGNATURE_ALGORITHM = "Ed25519"


def public_key_of(private_key: bytes) -> bytes:
    """The raw 32-byte public half of a raw 32-byte Ed25519 private key."""
    return (
        Ed25519PrivateKey.from_private_bytes(private_key)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def key_id(public_key: bytes) -> str:
    """A signing key's ID: the first 16 hex digits of SHA-256 over its raw public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def sign(private_key: bytes, payload: bytes) -> str:
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(payload).hex()


def signature_valid(public_key: bytes, payload: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(bytes.fromhex(signature), payload)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_pem(public_key: bytes) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), as `openssl pkey -pubin` reads it."""
    key = Ed25519PublicKey.from_public_bytes(public_key)
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def parse_public_key(text: str) -> bytes:
    """A raw Ed25519 public key from 64 hex digits or a PEM public key; ValueError otherwise."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("neither 64 hex digits nor a PEM public key") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes (64 hex digits), not {len(raw)}")
    return raw


# Verification: walking one chain's stored events in order and its digests, with nothing secret.
FINDINGS_MAX = 100  # per chain: past it, a count of the rest
REORDER_WINDOW = 256  # an altered event is matched against this many earlier ones to tell a swap


@dataclass(frozen=True)
class Entry:
    """One stored event as verification sees it: its position, its links and its stored fields."""

    seq: int
    prev_hash: str
    hash: str
    fields: Mapping[str, Any]

    def describe(self) -> str:
        f = self.fields
        return (
            f"seq {self.seq} (event ID {f.get('event_id')}, request ID {f.get('request_id')}, "
            f"time {f.get('event_time')}, {f.get('event_name')})"
        )


@dataclass(frozen=True)
class SignedDigest:
    from_seq: int
    to_seq: int
    last_hash: str
    signed_at: datetime
    key_id: str
    previous_signature: str
    signature: str

    def describe(self) -> str:
        return f"the digest of seq {self.from_seq}..{self.to_seq} signed at {self.signed_at.isoformat()}"


@dataclass(frozen=True)
class Finding:
    """Something verification proved wrong: what (`kind`), where, and how it knows (`how`)."""

    chain_id: str
    kind: str  # altered, removed, reordered, cut-off, digest
    seq: int | None
    how: str
    event_id: str | None = None
    request_id: str | None = None
    event_time: str | None = None

    def __str__(self) -> str:
        where = f"chain {self.chain_id}" + (f" seq {self.seq}" if self.seq is not None else "")
        return f"{self.kind}: {where}: {self.how}"


def _found(chain_id: str, kind: str, entry: Entry | None, how: str, seq: int | None = None) -> Finding:
    if entry is None:
        return Finding(chain_id, kind, seq, how)
    f = entry.fields
    return Finding(
        chain_id,
        kind,
        entry.seq,
        how,
        event_id=f.get("event_id"),
        request_id=f.get("request_id"),
        event_time=f.get("event_time"),
    )


class ChainCheck:
    """Verifies one chain: feed it the chain's stored events in seq order (in pages, `feed`), then
    `finish`. `keys` maps a key ID to the raw public key trusted for it (pinned, or the store's);
    `head` is the chain's head row (seq, link), which is not signed but catches a careless cut.

    Links are recomputed from each event's stored fields; consecutive events must join (prev_hash
    is the link before) at consecutive seqs; each digest must verify, join the previous one (seq
    range and previous signature), and sign the link stored at its last seq; the events must reach
    the last digest's end. A chain whose first remaining event is past seq 1 was pruned: valid only
    if a digest ends right before it with the link its first event continues."""

    def __init__(
        self,
        chain_id: str,
        digests: Sequence[SignedDigest],
        keys: Mapping[str, bytes],
        *,
        head: tuple[int, str] | None = None,
        key_source: str = "the store",
    ) -> None:
        self.chain_id = chain_id
        self.digests = sorted(digests, key=lambda d: d.to_seq)
        self.keys = keys
        self.head = head
        self.key_source = key_source
        self.findings: list[Finding] = []
        self.more_findings = 0
        self.events = 0
        self.first_seq: int | None = None
        self.last: Entry | None = None
        self.pruned_through = 0
        self._last_bad = False
        self._by_end = {d.to_seq: d for d in self.digests}
        self._recent_bad: deque[Entry] = deque(maxlen=REORDER_WINDOW)
        self._altered_at: dict[int, int] = {}  # seq -> index in findings of its "altered" finding
        self._check_digests()

    # results
    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def digested_through(self) -> int:
        return self.digests[-1].to_seq if self.digests else 0

    @property
    def unsigned(self) -> int:
        """Events after the last signed digest (checked, but not yet covered by a signature)."""
        if self.last is None:
            return 0
        return min(self.events, max(0, self.last.seq - self.digested_through))

    def _add(self, finding: Finding) -> int:
        if len(self.findings) >= FINDINGS_MAX:
            self.more_findings += 1
            return -1
        self.findings.append(finding)
        return len(self.findings) - 1

    # the digests: each verifies with a trusted key and joins the one before
    def _check_digests(self) -> None:
        previous: SignedDigest | None = None
        for d in self.digests:
            public = self.keys.get(d.key_id)
            payload = digest_payload(
                self.chain_id, d.from_seq, d.to_seq, d.last_hash, d.signed_at, d.previous_signature
            )
            if public is None:
                self._add(
                    _found(
                        self.chain_id,
                        "digest",
                        None,
                        f"{d.describe()} names signing key {d.key_id}, which is not in {self.key_source}: "
                        "it cannot be trusted",
                        d.to_seq,
                    )
                )
            elif not signature_valid(public, payload, d.signature):
                self._add(
                    _found(
                        self.chain_id,
                        "digest",
                        None,
                        f"the signature of {d.describe()} does not verify with key {d.key_id} from "
                        f"{self.key_source}: the digest was forged or altered, so seq "
                        f"{d.from_seq}..{d.to_seq} are not proven",
                        d.to_seq,
                    )
                )
            if d.to_seq < d.from_seq:
                self._add(
                    _found(self.chain_id, "digest", None, f"{d.describe()} has an empty range", d.to_seq)
                )
            if previous is not None:
                if d.from_seq != previous.to_seq + 1:
                    self._add(
                        _found(
                            self.chain_id,
                            "digest",
                            None,
                            f"{d.describe()} does not start where {previous.describe()} ends: "
                            "a digest was removed or altered",
                            d.to_seq,
                        )
                    )
                if d.previous_signature != previous.signature:
                    self._add(
                        _found(
                            self.chain_id,
                            "digest",
                            None,
                            f"{d.describe()} does not carry the signature of {previous.describe()}: "
                            "a digest between them was removed or replaced",
                            d.to_seq,
                        )
                    )
            elif d.from_seq == 1 and d.previous_signature != "":
                self._add(
                    _found(
                        self.chain_id,
                        "digest",
                        None,
                        f"{d.describe()} is the chain's first yet follows another digest: earlier digests "
                        "were removed",
                        d.to_seq,
                    )
                )
            previous = d

    # the events
    def feed(self, entries: Iterable[Entry]) -> None:
        for e in entries:
            self._one(e)

    def _one(self, e: Entry) -> None:
        last = self.last
        self.events += 1
        joined = True  # e continues `last` (or the chain's start) as stored
        if last is None:
            self.first_seq = e.seq
            joined = self._start(e)
        elif e.seq != last.seq + 1:
            first, end = last.seq + 1, e.seq - 1
            missing = f"seq {first}" if first == end else f"seq {first}..{end}"
            self._add(
                _found(
                    self.chain_id,
                    "removed",
                    None,
                    f"{missing} {'is' if first == end else 'are'} missing: after {last.describe()} the "
                    f"next stored event is {e.describe()}",
                    first,
                )
            )
            joined = False
        elif e.prev_hash != last.hash:
            joined = False
        ok = link(e.prev_hash, self.chain_id, e.seq, e.fields) == e.hash
        if not ok:
            self._bad(e)
        elif not joined and not self._last_bad and (last is None or e.seq == last.seq + 1):
            before = "the chain's start" if last is None else f"the link of {last.describe()}"
            self._add(
                _found(
                    self.chain_id,
                    "altered",
                    e,
                    f"the chain breaks before {e.describe()}: its prev_hash is not {before}; events were "
                    "removed, inserted or rewritten here",
                )
            )
        d = self._by_end.get(e.seq)
        if d is not None and e.hash != d.last_hash and not self._found_in(d.from_seq, d.to_seq):
            self._add(
                _found(
                    self.chain_id,
                    "altered",
                    e,
                    f"{d.describe()} signed link {d.last_hash[:16]}…, but the link stored at seq {e.seq} is "
                    f"{e.hash[:16]}…: an event in seq {d.from_seq}..{d.to_seq} was rewritten and the links "
                    "after it recomputed",
                )
            )
        self.last = e
        self._last_bad = not ok

    def _start(self, e: Entry) -> bool:
        if e.seq == 1:
            return e.prev_hash == GENESIS
        anchor = self._by_end.get(e.seq - 1)
        if anchor is not None and anchor.last_hash == e.prev_hash:
            self.pruned_through = e.seq - 1
            return True
        if anchor is not None:
            self._add(
                _found(
                    self.chain_id,
                    "altered",
                    e,
                    f"the chain was pruned through seq {e.seq - 1}, where {anchor.describe()} signed link "
                    f"{anchor.last_hash[:16]}…, but the first remaining event, {e.describe()}, continues "
                    f"link {e.prev_hash[:16]}…",
                )
            )
        else:
            self._add(
                _found(
                    self.chain_id,
                    "removed",
                    None,
                    f"seq 1..{e.seq - 1} are missing: the chain's first stored event is {e.describe()} and "
                    f"no signed digest ends at seq {e.seq - 1} (pruning removes only whole digested ranges)",
                    1,
                )
            )
        return True  # said once: no second finding for the same break

    def _bad(self, e: Entry) -> None:
        """`e`'s stored fields no longer give its link: altered, or moved from another seq (reordered)."""
        if len(self.findings) >= FINDINGS_MAX:
            self.more_findings += 1
            return
        for q in reversed(self._recent_bad):
            if self._belongs(e, q.seq, q) or self._belongs(q, e.seq, e):
                index = self._altered_at.pop(q.seq, -1)
                finding = _found(
                    self.chain_id,
                    "reordered",
                    e,
                    f"{e.describe()} and {q.describe()} were swapped: the event stored at seq {e.seq} "
                    f"belongs at seq {q.seq} and the one stored at seq {q.seq} at seq {e.seq} (each one's "
                    "link fits the other's place)",
                )
                if index >= 0:
                    self.findings[index] = finding
                else:
                    self._add(finding)
                self._recent_bad.remove(q)
                return
        self._recent_bad.append(e)
        self._altered_at[e.seq] = self._add(
            _found(
                self.chain_id,
                "altered",
                e,
                f"{e.describe()} was altered: its stored fields no longer hash to its stored link",
            )
        )

    def _belongs(self, moved: Entry, seq: int, slot: Entry) -> bool:
        """Whether `moved`'s fields belong at `seq`: with their own links, or with `slot`'s."""
        return (
            link(moved.prev_hash, self.chain_id, seq, moved.fields) == moved.hash
            or link(slot.prev_hash, self.chain_id, seq, moved.fields) == slot.hash
        )

    def _found_in(self, first: int, end: int) -> bool:
        return any(f.seq is not None and first <= f.seq <= end for f in self.findings)

    def finish(self) -> None:
        last = self.last
        final = self.digests[-1] if self.digests else None
        if last is None and final is not None:
            self.pruned_through = final.to_seq  # every event pruned: the head must be where it ends
        reached = last.seq if last is not None else self.pruned_through
        first = self.digests[0] if self.digests else None
        if first is not None and first.from_seq > 1 and first.to_seq != self.pruned_through:
            self._add(
                _found(
                    self.chain_id,
                    "digest",
                    None,
                    f"the chain's first digest is {first.describe()}: the digests of seq "
                    f"1..{first.from_seq - 1} are gone, yet the chain was not pruned through seq "
                    f"{first.to_seq} (pruning keeps the digest that ends where it pruned): digests were "
                    "removed",
                    first.to_seq,
                )
            )
        if final is not None and reached < final.to_seq:
            self._add(
                _found(
                    self.chain_id,
                    "cut-off",
                    None,
                    f"seq {reached + 1}..{final.to_seq} are missing from the chain's end"
                    + (f" (its last stored event is {last.describe()})" if last is not None else "")
                    + f": {final.describe()} covers them",
                    reached + 1,
                )
            )
            return
        if self.head is None:
            return
        head_seq, head_hash = self.head
        if head_seq > reached:
            self._add(
                _found(
                    self.chain_id,
                    "cut-off",
                    None,
                    f"seq {reached + 1}..{head_seq} are missing from the chain's end: the chain's head row "
                    f"says it reached seq {head_seq} (they were not yet covered by a signed digest)",
                    reached + 1,
                )
            )
        elif head_seq == reached:
            stored = last.hash if last is not None else (final.last_hash if final is not None else GENESIS)
            if stored != head_hash and not (last is not None and self._last_bad):
                self._add(
                    _found(
                        self.chain_id,
                        "altered",
                        last,
                        f"the chain's head row records link {head_hash[:16]}… for seq {head_seq}, but the "
                        f"stored link there is {stored[:16]}…",
                        head_seq,
                    )
                )
