"""The sliding-window limiter never lets more than `capacity` calls start in any window."""

from __future__ import annotations

import pytest

from inavd.execution.ratelimit import Backoff, RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.t += s


async def test_200_per_minute_with_headroom_is_180_in_any_window() -> None:
    ft = FakeTime()
    rl = RateLimiter(200, 0.9, 60.0, ft.now, ft.sleep)
    starts = []
    for _ in range(500):
        await rl.acquire()
        starts.append(ft.t)
        ft.t += 0.01
    assert rl.capacity == 180
    for i, t in enumerate(starts):  # every window of 60 s starting at a call
        assert sum(1 for u in starts[i:] if u < t + 60.0) <= 180
    assert starts[180] >= 60.0  # the 181st waited for the first to leave the window


async def test_pause_after_429_holds_everyone() -> None:
    ft = FakeTime()
    rl = RateLimiter(200, 1.0, 60.0, ft.now, ft.sleep)
    rl.pause(2.5)
    await rl.acquire()
    assert ft.t == pytest.approx(2.5)


def test_backoff_grows_is_capped_jittered_and_honours_retry_after() -> None:
    b = Backoff(0.25, 4.0, seed=1)
    d = [b.delay(k) for k in range(8)]
    assert all(0.125 <= x <= 0.25 for x in d[:1])
    assert all(2.0 <= x <= 4.0 for x in d[5:])
    assert len(set(d)) == len(d)  # jittered
    assert b.delay(0, retry_after_s=7.0) == 7.0
