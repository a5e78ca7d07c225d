"""The running service's shared state: store, key ring, settings, clock, randomness and caches."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from rolehop.core.keyring import KeyRing
from rolehop.services.pipeline.caches import Caches, WriteCounter
from rolehop.services.pipeline.caches import Clock as Clock  # the runtime's clock type, re-exported
from rolehop.services.pipeline.denial_log import DenialLog
from rolehop.services.pipeline.denial_windows import DenialWindows
from rolehop.services.pipeline.trail import Trail
from rolehop.services.ports.meter import Meter, NoMeter
from rolehop.services.ports.store import Store


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    management_account_id: str
    dev: bool = False
    default_region: str = "us-east-1"
    # A cached entry's longest life: the bound on staleness should the store's change notifications
    # stop arriving (they normally drop other nodes' caches within a second; store.versions).
    cache_seconds: float = 5.0
    # opt-in: AccessDenied messages carry an encoded explanation (STS DecodeAuthorizationMessage)
    encode_denials: bool = False
    # the audit trail: on as users run it (off only to measure its cost), its retention, and whether
    # the management account's event history spans the organization (opt-in, beyond CloudTrail)
    audit_trail: bool = True
    audit_retention_days: int = 90
    audit_org_view: bool = False


class Runtime:
    """What every operation of this node shares. Its caches are listed, typed, in `Caches`."""

    def __init__(
        self,
        store: Store,
        ring: KeyRing,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        random: Callable[[int], bytes] = os.urandom,
        meter: Meter | None = None,
    ) -> None:
        self.store = store
        self.ring = ring
        self.settings = settings
        self.clock = clock
        self.random = random
        self.meter: Meter = meter or NoMeter()  # what operators count (rolehop.metrics)
        self._writes = WriteCounter()
        self.caches = Caches.for_node(seconds=settings.cache_seconds, clock=clock, writes=self._writes)
        store.watch_changes(self._writes.bump)  # other nodes' writes drop these caches within a second
        self.denial_log = DenialLog()
        self.trail = Trail(  # this node's chain of records, its signed digests and retention
            store,
            clock,
            enabled=settings.audit_trail,
            ring=ring,
            random=random,
            retention_days=settings.audit_retention_days,
            account_id=settings.management_account_id,
            region=settings.default_region,
        )
        # which request opened each window of identical denials (pipeline.denials)
        self.denial_windows = DenialWindows()

    def changed(self) -> None:
        """Every write calls this so this node's caches never serve what it has just changed (the
        store's watcher does the same for other nodes' writes, a moment later)."""
        self._writes.bump()
