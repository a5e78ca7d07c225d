"""The running service's shared state: store, key ring, clock, randomness and hot-path caches."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar, cast

from rolehop.core.keyring import KeyRing
from rolehop.services.pipeline.key_usage import KeyUsage
from rolehop.services.ports.store import Store

Clock = Callable[[], datetime]
T = TypeVar("T")


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    management_account_id: str
    dev: bool = False
    default_region: str = "us-east-1"
    # Other nodes see an IAM change within this many seconds (IAM itself is eventually consistent).
    cache_seconds: float = 5.0
    # opt-in: AccessDenied messages carry an encoded explanation (STS DecodeAuthorizationMessage)
    encode_denials: bool = False


class Runtime:
    def __init__(
        self,
        store: Store,
        ring: KeyRing,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.store = store
        self.ring = ring
        self.settings = settings
        self.clock = clock
        self.random = random
        self._generation = 0
        self._lock = threading.Lock()
        self.caches: dict[str, dict[object, tuple[int, float, object]]] = {}
        self.key_usage = KeyUsage(store)

    @property
    def generation(self) -> int:
        return self._generation

    def changed(self) -> None:
        """Every write calls this so this node's caches never serve what it has just changed."""
        with self._lock:
            self._generation += 1

    def cached(self, cache: str, key: object, load: Callable[[], T]) -> T:
        """A value from `load`, reused until a local write or `cache_seconds` (for other nodes' writes)."""
        entries = self.caches.setdefault(cache, {})
        hit = entries.get(key)
        now = self.clock().timestamp()  # the injected clock: tests expire caches without sleeping
        if hit is not None and hit[0] == self._generation and hit[1] > now:
            return cast(T, hit[2])
        generation = self._generation
        value = load()
        if len(entries) > 100_000:  # bound memory under a flood of distinct keys
            entries.clear()
        entries[key] = (generation, now + self.settings.cache_seconds, value)
        return value
