"""Fair use: a token bucket per messenger account, in memory, per process.

A resident may send `burst` messages at once and `rate` a second after that. The first
message over the limit trips the bucket: the channel says so once, politely; every
further message is dropped unrecorded (and still drains the bucket), so a chat that
keeps flooding stays silent until it pauses long enough for the bucket to fill again.

Per process on purpose: it guards this process's connections and database, costs no
query, and a platform sends one chat's updates to one webhook URL. With N processes
behind a load balancer, a flood gets at most N times the rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum

from config.settings import FairUseSettings

RATE = 5.0  # messages a second, sustained
BURST = 10  # messages at once
MAX_ACCOUNTS = 50_000  # buckets kept; full (idle) ones are dropped beyond this


class Verdict(StrEnum):
    PASS = "pass"  # handle it
    TRIP = "trip"  # over the limit just now: drop it and say so once
    DROP = "drop"  # still over the limit: drop it silently


@dataclass
class _Bucket:
    tokens: float
    at: float
    tripped: bool = False


class Throttle:
    @classmethod
    def from_settings(cls, settings: FairUseSettings) -> Throttle:
        return cls(settings.messages_per_second, settings.burst)

    def __init__(
        self,
        rate: float = RATE,
        burst: int = BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_accounts: int = MAX_ACCOUNTS,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_accounts = max_accounts
        self._buckets: dict[Hashable, _Bucket] = {}
        self.dropped = 0  # messages dropped since start, for logs and tests

    def check(self, key: Hashable) -> Verdict:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tripped and bucket.tokens >= self.burst:
            bucket.tripped = False  # paused long enough: welcome back
        if not bucket.tripped and bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.PASS
        self.dropped += 1
        bucket.tokens = max(0.0, bucket.tokens - 1)
        if bucket.tripped:
            return Verdict.DROP
        bucket.tripped = True
        return Verdict.TRIP

    def _prune(self, now: float) -> None:
        if len(self._buckets) < self.max_accounts:
            return
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_accounts:  # all busy: forget the oldest half
            for key in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[key]
