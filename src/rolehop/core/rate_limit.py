"""Token buckets: how many requests a key (a principal, a source address) may make, and how fast.

A bucket holds up to `burst` tokens and gains `per_second` of them every second; a request takes one
or is refused. Pure: the time is passed in (`now`, seconds from any fixed origin), and nothing here
locks (the caller does). A guard against floods, not a quota: nothing is persisted or shared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_KEYS = 100_000  # like every cache: a flood of distinct keys costs bounded memory


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_second) and self.per_second > 0):
            raise ValueError(f"a rate of {self.per_second} requests per second cannot be")
        if not (math.isfinite(self.burst) and self.burst >= 1):
            raise ValueError(f"a burst of {self.burst} lets no request through")


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """One bucket per key, all at the same rate. A key seen for the first time starts full."""

    def __init__(self, rate: Rate, *, max_keys: int = MAX_KEYS) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, *, now: float) -> bool:
        """Takes a token from `key`'s bucket: True if there was one, False if the request must wait."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget(now)
            bucket = self._buckets[key] = _Bucket(self.rate.burst, now)
        else:
            bucket.tokens = self._level(bucket, now)
            bucket.at = max(bucket.at, now)  # a clock stepping back earns nothing when it steps forward
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _level(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.at)
        return min(self.rate.burst, bucket.tokens + elapsed * self.rate.per_second)

    def _forget(self, now: float) -> None:
        """Makes room: first the buckets that have refilled (the same as a key never seen), then, if
        none has, every bucket (briefly generous rather than unbounded)."""
        full = [key for key, bucket in self._buckets.items() if self._level(bucket, now) >= self.rate.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
