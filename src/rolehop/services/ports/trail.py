"""The storage port of the audit trail: CloudTrail records, appended to one hash chain per node.

Events are only ever appended (there is no update path) and deleted only by retention pruning of
whole digested ranges. Each node writes its own chain, so nodes never wait for each other: the
chain's head row is locked by the appending transaction, which also keeps concurrent writers on
one node in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Resource:
    type: str  # e.g. AWS::IAM::Role
    name: str  # its name or ARN, as CloudTrail's LookupEvents shows it


@dataclass(frozen=True)
class TrailEvent:
    """One CloudTrail record and the columns it is looked up by (all taken from the record)."""

    event_id: str
    request_id: str | None
    event_time: datetime
    account_id: str  # recipientAccountId: whose event history shows it
    region: str  # awsRegion
    event_source: str
    event_name: str
    read_only: bool
    username: str | None
    access_key_id: str | None
    # the user or role behind the principal (a session's issuer): what "last used" is keyed by
    principal_arn: str | None
    error_code: str | None
    record: str  # the CloudTrail record, canonical JSON (core.trail_chain.canonical)
    resources: tuple[Resource, ...] = ()
    # an AccessDenied's explanation (pipeline.denials), for `rolehop explain`: never in the record,
    # which the account's event history shows; covered by the event's hash all the same
    explanation: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    chain_id: str
    seq: int
    event: TrailEvent
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainHead:
    chain_id: str
    node: str
    started_at: datetime
    seq: int  # the last event's, 0 before the first
    hash: str  # the last event's link (core.trail_chain.GENESIS before the first)


@dataclass(frozen=True)
class Digest:
    """A signed statement that a chain's events from_seq..to_seq end with link last_hash."""

    chain_id: str
    from_seq: int
    to_seq: int
    last_hash: str
    signed_at: datetime
    key_id: str
    previous_signature: str  # the chain's previous digest's signature ("" for its first)
    signature: str  # hex Ed25519 signature of core.trail_chain.digest_payload(...)


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    public_key: bytes  # raw 32-byte Ed25519 public key
    sealed_private: bytes  # sealed with the key ring
    created_at: datetime


@dataclass(frozen=True)
class EventQuery:
    """LookupEvents' filter: at most one attribute, a time range, newest first."""

    account_ids: tuple[str, ...] | None  # None: every account (the organization view, `rolehop audit`)
    attribute: str | None = None  # EventId, EventName, ReadOnly, Username, ResourceType, ResourceName,
    value: str | None = None  # EventSource, AccessKeyId (and rolehop's PrincipalArn)
    start: datetime | None = None
    end: datetime | None = None
    # continue after this (event_time, chain_id, seq), in newest-first order
    after: tuple[datetime, str, int] | None = None
    limit: int = 50
    ascending: bool = False  # oldest first (export, tail)


@dataclass(frozen=True)
class LastUse:
    at: datetime
    region: str
    service: str  # e.g. iam.amazonaws.com


class TrailTx(Protocol):
    # the chain of a node: created once, its head locked by every transaction that appends to it
    def start_chain(self, chain_id: str, node: str, started_at: datetime) -> None: ...
    def lock_chain(self, chain_id: str) -> ChainHead | None: ...
    def append_events(self, head: ChainHead, events: Sequence[StoredEvent]) -> None:
        """Inserts `events` (which continue `head`) and moves the chain's head to the last one."""
        ...

    def chains(self) -> list[ChainHead]: ...
    def chain_events(self, chain_id: str, from_seq: int = 1, limit: int = 10_000) -> list[StoredEvent]: ...
    def lookup_events(self, query: EventQuery) -> list[StoredEvent]: ...
    def event_by_request(self, request_id: str) -> StoredEvent | None: ...

    # digests and their keys
    def add_digest(self, digest: Digest) -> None: ...
    def digests(self, chain_id: str | None = None) -> list[Digest]: ...
    def add_signing_key(self, key: SigningKey) -> None: ...
    def signing_keys(self) -> list[SigningKey]: ...
    def reseal_signing_key(self, key_id: str, sealed_private: bytes) -> None: ...

    # retention: deletes a chain's events up to and including `through_seq`
    def prune_chain(self, chain_id: str, through_seq: int) -> int: ...

    # last used, batched (a page of users, a report's principals): {key: its newest event}.
    # "Attempts" count refused calls too: AWS's last-used data is of requests made, not granted.
    def last_attempts_by_key(self, access_key_ids: Sequence[str]) -> dict[str, LastUse]: ...
    def last_attempts_by_principal(self, principal_arns: Sequence[str]) -> dict[str, LastUse]: ...
    def last_events_of(self, principal_arns: Sequence[str], event_name: str) -> dict[str, LastUse]:
        """The newest successful `event_name` event of each principal."""
        ...

    def last_accesses(self, principal_arns: Sequence[str], event_sources: Sequence[str]) -> list[Access]:
        """Each principal's newest attempt at each action (event source and name) of `event_sources`."""
        ...

    # retention of digests: deletes a chain's digests that end before `before_seq` (pruning keeps the
    # one that ends at the pruned range's end: the remaining events' signed anchor)
    def prune_digests(self, chain_id: str, before_seq: int) -> int: ...

    def last_digest(self, chain_id: str) -> Digest | None:
        """The chain's newest digest (the one a new digest follows)."""
        ...

    # the repeats of an AccessDenied (pipeline.denials): how many events of `principal_arn` between
    # `start` and `end` keep exactly `explanation`, and the newest of them
    def events_explained(
        self, principal_arn: str | None, start: datetime, end: datetime, explanation: str
    ) -> tuple[int, StoredEvent | None]: ...


@dataclass(frozen=True)
class Access:
    """The newest event of one principal with one action (service last accessed details)."""

    principal_arn: str
    event_source: str  # e.g. iam.amazonaws.com
    event_name: str  # the action, e.g. CreateUser
    at: datetime
    region: str
