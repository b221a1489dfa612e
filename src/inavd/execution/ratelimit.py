"""Client-side rate limiting and backoff, shared by every broker call of the process.

A sliding-window log (not a token bucket) so the limit holds in *every* window of `period_s`, not
just on average: at most `capacity` calls start in any interval of that length. A 429 from the
broker additionally pauses all callers until its backoff has passed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    def __init__(
        self,
        per_minute: int = 200,
        headroom: float = 0.9,
        period_s: float = 60.0,
        now: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.capacity = max(1, int(per_minute * headroom))
        self.period_s = period_s
        self._now = now
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self.waits = 0  # how often a caller had to wait (for metrics and tests)

    async def acquire(self) -> None:
        while True:
            now = self._now()
            if now < self._paused_until:
                self.waits += 1
                await self._sleep(self._paused_until - now)
                continue
            while self._starts and self._starts[0] <= now - self.period_s:
                self._starts.popleft()
            if len(self._starts) < self.capacity:
                self._starts.append(now)
                return
            self.waits += 1
            await self._sleep(self._starts[0] + self.period_s - now + 1e-6)

    def pause(self, seconds: float) -> None:
        """After a 429: nobody calls the broker until `seconds` from now."""
        self._paused_until = max(self._paused_until, self._now() + seconds)


class Backoff:
    """Exponential backoff with 'equal jitter': half fixed, half random, capped."""

    def __init__(self, base_s: float = 0.25, cap_s: float = 15.0, seed: int = 0) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = random.Random(seed)

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        d = min(self.cap_s, self.base_s * (2**attempt))
        d = d / 2 + self._rng.uniform(0, d / 2)
        return float(max(d, retry_after_s or 0.0))
