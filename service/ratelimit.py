"""A per-key rate limit: a token bucket per caller, refilled evenly over the minute.

The buckets live in the worker's memory. With `--workers N` each worker keeps its own,
so a key that the kernel spreads over N workers can get up to N times the limit in the
worst case; the README says so. A shared store comes when the service needs one.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_MAX_BUCKETS = 10_000  # beyond this, full buckets (idle callers) are dropped


@dataclass(frozen=True)
class RateDecision:
    """Whether one request may pass, and what to tell the caller."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows `per_minute` requests a minute per identity, with bursts up to that number."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """A limit of 0 turns the limiter off."""
        return self.per_minute > 0

    def hit(self, identity: str) -> RateDecision:
        """Take one token from `identity`'s bucket, or say how long to wait for one."""
        if not self.enabled:
            return RateDecision(True, 0, 0, 0)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(identity)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._prune(now)
                bucket = self._buckets[identity] = _Bucket(float(self.per_minute), now)
            else:
                bucket.tokens = min(
                    float(self.per_minute), bucket.tokens + (now - bucket.updated) * self._rate
                )
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return RateDecision(True, self.per_minute, int(bucket.tokens), 0)
            wait = math.ceil((1.0 - bucket.tokens) / self._rate)
            return RateDecision(False, self.per_minute, 0, max(1, wait))

    def _prune(self, now: float) -> None:
        full = [
            identity
            for identity, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self._rate >= self.per_minute
        ]
        for identity in full:
            del self._buckets[identity]
