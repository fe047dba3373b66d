"""Requests-per-minute and tokens-per-minute limits for asyncio code, as token buckets.

Each bucket refills continuously at its rate. A request may start whenever neither bucket is in
debt, and then takes its whole cost, possibly driving a bucket below zero; later requests wait
until the debt is repaid. So a request larger than the burst still passes, and a saturated
caller gets exactly the set rate. Buckets start empty (no burst at start-up) and, while the
caller is idle, fill up to BURST_S seconds' worth: in any window of T seconds at most
rate * (T + BURST_S) + one request pass, within 2.5% of the rate over a 20 s window and 1% over
a minute (the window providers enforce their limits over).
"""

from __future__ import annotations

import asyncio
import time

BURST_S = 0.5


class _Bucket:
    def __init__(self, per_minute: float):
        self.rate = per_minute / 60
        self.capacity = max(1.0, self.rate * BURST_S)
        self.level = 0.0
        self.stamp = time.monotonic()

    def wait(self, now: float) -> float:
        """Seconds until the bucket is out of debt."""
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        return max(0.0, -self.level / self.rate)

    def add(self, amount: float) -> None:
        self.level = min(self.capacity, self.level + amount)


class RateLimiter:
    """Token buckets for requests and tokens per minute; None means unlimited.

    Waiters are served first come, first served. Create it inside the event loop that uses it.
    """

    def __init__(self, rpm: float | None, tpm: float | None):
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, got {value}")
        self._requests = _Bucket(rpm) if rpm else None
        self._tokens = _Bucket(tpm) if tpm else None
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until one request and `tokens` tokens may be spent, then spend them."""
        if self._requests is None and self._tokens is None:
            return
        async with self._lock:
            while delay := max(b.wait(time.monotonic()) for b in (self._requests, self._tokens) if b):
                await asyncio.sleep(delay)
            if self._requests:
                self._requests.add(-1)
            if self._tokens:
                self._tokens.add(-tokens)

    def refund(self, tokens: int) -> None:
        """Give back reserved tokens that were not used (a negative amount charges extra ones)."""
        if self._tokens:
            self._tokens.add(tokens)
