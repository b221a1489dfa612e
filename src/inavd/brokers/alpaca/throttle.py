"""Client-side request pacing for Alpaca's per-account limit (200 requests per minute).

alpaca-py retries a 429 with a blocking 3 s sleep and hides the rate-limit headers, so its retry
is switched off and requests are paced here; a 429 still seen pauses every caller for a while.
"""

from __future__ import annotations

import asyncio
import time


class RequestThrottle:
    def __init__(self, per_minute: int, burst: int = 10) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.paused_until = 0.0
        self.limited = 0  # 429 responses seen
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self.paused_until:
                    await asyncio.sleep(self.paused_until - now)
                    continue
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self.tokens) / self.rate)

    def rate_limited(self, pause_s: float) -> None:
        """The server said 429: hold every request for `pause_s` and drop the burst."""
        self.limited += 1
        self.tokens = 0.0
        self.paused_until = max(self.paused_until, time.monotonic() + pause_s)
