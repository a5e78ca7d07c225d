"""Every cache of a node, in one place: what each maps, how many entries it keeps, when they expire.

A cached value is reused until this node writes anything (`Runtime.changed`), another node or
process sharing the store writes something that may change a decision (the store's watcher bumps
the same WriteCounter within a second: store.versions), or `cache_seconds` pass, the bound should
the watcher lose the store. Compiled policies never go stale: they are keyed by their text. A cache
that reaches its bound is emptied, so a flood of distinct keys costs memory up to the bound and no
more.

A node's request threads share the caches without a lock: a dict's get, set and clear are atomic
under the GIL; two threads missing one key both load it (the same value); and the write count is
read before loading, so a write during a load leaves that entry stale, never wrongly fresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from rolehop.core.entities import Identity
from rolehop.core.policy import Policy, PolicySet
from rolehop.services.pipeline.caller import LongTermKey

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Clock = Callable[[], datetime]

ENTRIES_BOUND = 100_000
COMPILED_BOUND = 50_000

Levels = tuple[tuple[Policy, ...], ...]  # control policies per level, root first
# (identity-based, permissions boundary, session) policies of one principal
PrincipalPolicies = tuple[tuple[Policy, ...], tuple[Policy, ...], tuple[Policy, ...]]
# a principal's unique ID (or session user ID) with its session policy text and ARNs
PrincipalKey = tuple[str, str, tuple[str, ...]]
PolicySetKey = tuple[PrincipalKey, Policy | None, Levels, Levels]


class WriteCounter:
    """Writes seen by this node, its own and (through the store's watcher) other nodes', counted: an
    entry loaded before the latest one is stale."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._count

    def bump(self) -> None:
        with self._lock:
            self._count += 1


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    writes: int
    expires: float | None
    value: V


class Cache(Generic[K, V]):
    """Values by key, loaded on a miss. `seconds=None` and `writes=None` make entries immortal (for
    values that cannot go stale); a full cache is emptied before the next entry goes in."""

    def __init__(
        self, *, bound: int, seconds: float | None, clock: Clock, writes: WriteCounter | None
    ) -> None:
        self._bound = bound
        self._seconds = seconds
        self._clock = clock  # the injected clock: tests expire caches without sleeping
        self._writes = writes
        self._entries: dict[K, _Entry[V]] = {}
        # lookups answered from the cache and loaded, for the hit ratio (rolehop.metrics reads them);
        # plain ints: a lock would cost every lookup, a rare lost count under contention costs nothing
        self.hits = 0
        self.misses = 0

    def get(self, key: K, load: Callable[[], V]) -> V:
        now = self._clock().timestamp() if self._seconds is not None else 0.0
        writes = self._writes.count if self._writes is not None else 0  # read before loading
        hit = self._entries.get(key)
        if hit is not None and hit.writes == writes and (hit.expires is None or hit.expires > now):
            self.hits += 1
            return hit.value
        self.misses += 1
        value = load()
        if len(self._entries) >= self._bound:
            self._entries.clear()
        expires = now + self._seconds if self._seconds is not None else None
        self._entries[key] = _Entry(writes, expires, value)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Caches:
    """A node's caches. Each line: the key -> the value, and who reads it."""

    # access key ID -> its secret and caller, None for an unknown or inactive key (authenticate)
    access_keys: Cache[str, LongTermKey | None]
    # unique ID (AIDA…, AROA…) -> the user or role a session speaks for (authenticate)
    identities: Cache[str, Identity | None]
    # role ARN -> the role, so that AssumeRole reads no database (sts.assume_role)
    roles_by_arn: Cache[str, Identity | None]
    # (account ID, policy type) -> compiled SCPs or RCPs per level, root first (authorize)
    control_policies: Cache[tuple[str, str], Levels]
    # account ID -> the ID of the organization it belongs to, None outside (aws:PrincipalOrgID)
    organization_ids: Cache[str, str | None]
    # principal and session policies -> its compiled policies (authorize)
    principal_policies: Cache[PrincipalKey, PrincipalPolicies]
    # one PolicySet per principal, resource policy and control policies, so that the engine's
    # per-action plans are reused (authorize)
    policy_sets: Cache[PolicySetKey, PolicySet]
    # user or role unique ID -> its tags, for aws:PrincipalTag/… (authorize)
    principal_tags: Cache[str, Mapping[str, str]]
    # (name, policy text) -> the compiled policy, once per process: never stale (authorize)
    compiled_policies: Cache[tuple[str, str], Policy]

    @classmethod
    def for_node(cls, *, seconds: float, clock: Clock, writes: WriteCounter) -> Caches:
        def expiring() -> Cache[Any, Any]:
            return Cache(bound=ENTRIES_BOUND, seconds=seconds, clock=clock, writes=writes)

        return cls(
            access_keys=expiring(),
            identities=expiring(),
            roles_by_arn=expiring(),
            control_policies=expiring(),
            organization_ids=expiring(),
            principal_policies=expiring(),
            policy_sets=expiring(),
            principal_tags=expiring(),
            compiled_policies=Cache(bound=COMPILED_BOUND, seconds=None, clock=clock, writes=None),
        )
