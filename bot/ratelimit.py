"""Token buckets that make callers wait instead of letting the platform answer 429."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    """At most `rate` acquisitions per second on average, `burst` at once."""

    def __init__(
        self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        async with self._lock:  # FIFO: waiters are served in arrival order
            self._refill()
            self._tokens -= 1
            if self._tokens < 0:
                # Sleep off the debt. Refilling from the clock afterwards means a late
                # wake-up is credited, so the long-run rate stays exactly `rate`.
                await asyncio.sleep(-self._tokens / self.rate)


class KeyedBuckets:
    """One bucket per key (a chat), keeping only the most recently used keys."""

    def __init__(self, rate: float, burst: float = 1.0, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    async def acquire(self, key: str) -> None:
        bucket = self._buckets.pop(key, None) or TokenBucket(self.rate, self.burst)
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        await bucket.acquire()
