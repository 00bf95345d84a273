"""Rate limits for the ingestion and query APIs: a token bucket per caller, in memory.

The caller is its credential (a key, a session) or, without one, its IP address. A bucket holds
`per_minute` tokens and refills continuously; an empty bucket answers 429 with Retry-After.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Buckets per (class, caller); `limits` maps a class to requests per minute (0: no limit)."""

    limits: dict[str, int]
    clock: Callable[[], float] = time.monotonic
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    max_buckets: int = 100_000

    def take(self, kind: str, caller: str) -> float:
        """Spend one token; 0 when allowed, else the seconds until one is available."""
        per_minute = self.limits.get(kind, 0)
        if per_minute <= 0:
            return 0.0
        rate = per_minute / 60.0
        now = self.clock()
        with self.lock:
            if len(self.buckets) >= self.max_buckets:
                self.buckets.clear()  # a flood of callers: start afresh rather than grow
            bucket = self.buckets.setdefault((kind, caller), Bucket(float(per_minute), now))
            bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate


def retry_after(seconds: float) -> str:
    """Retry-After in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
