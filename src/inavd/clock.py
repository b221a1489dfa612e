"""Injected time. The core never reads the wall clock itself."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from inavd.domain.units import NS_PER_S

NY = ZoneInfo("America/New_York")


class Clock(Protocol):
    def now_ns(self) -> int: ...

    async def sleep_until(self, ts_ns: int) -> None: ...


class WallClock:
    """Live time: UTC epoch nanoseconds from the system clock."""

    def now_ns(self) -> int:
        return time.time_ns()

    async def sleep_until(self, ts_ns: int) -> None:
        delay = (ts_ns - time.time_ns()) / NS_PER_S
        if delay > 0:
            await asyncio.sleep(delay)


class SimClock:
    """Replay time: advanced by the data. `speed` > 0 paces replay against the wall clock."""

    def __init__(self, start_ns: int = 0, speed: float = 0.0) -> None:
        self._now = start_ns
        self.speed = speed
        self._anchor: tuple[int, int] | None = None  # (sim ns, wall ns) when pacing began

    def now_ns(self) -> int:
        return self._now

    def advance_to(self, ts_ns: int) -> None:
        if ts_ns > self._now:
            self._now = ts_ns

    async def sleep_until(self, ts_ns: int) -> None:
        """Pace to real time × speed, then jump the simulated clock."""
        if self.speed > 0:
            wall = time.monotonic_ns()
            if self._anchor is None:
                self._anchor = (self._now, wall)
            sim0, wall0 = self._anchor
            target_wall = wall0 + (ts_ns - sim0) / self.speed
            delay = (target_wall - wall) / NS_PER_S
            if delay > 0:
                await asyncio.sleep(delay)
        self.advance_to(ts_ns)


def ns_to_ny(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / NS_PER_S, tz=UTC).astimezone(NY)


def dt_to_ns(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone")
    return round(dt.timestamp() * 1e6) * 1000
