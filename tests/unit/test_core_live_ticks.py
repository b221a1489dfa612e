"""Evaluation ticks in replay vs live: a replay evaluates every tick the data crosses (replays
stay deterministic); a live daemon that starts mid-session, or comes back after a silent spell,
evaluates once at the latest tick instead of re-running every missed tick on one book."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from inavd.book.quote_book import QuoteBook
from inavd.bus import Bus
from inavd.core import Core
from inavd.domain.events import InavEvaluated
from inavd.domain.quotes import QuoteBatch

S = 1_000_000_000


class Engine:
    """Just enough of InavEngine: one fund, no benchmark."""

    fund_symbols = ("SH",)
    universe = SimpleNamespace(benchmarks=())

    def evaluate(self, now_ns: int) -> Any:
        one = np.ones(1)
        return SimpleNamespace(inav=one, mid=one, premium_bp=one * 0, benchmark_move=one * 0,
                               flow_usd=one * 0, flow_by_benchmark=np.empty(0))


def core(catch_up: bool) -> tuple[Core, list[InavEvaluated]]:
    bus = Bus()
    seen: list[InavEvaluated] = []
    bus.subscribe(InavEvaluated, seen.append)
    c = Core(book=QuoteBook(("SH",)), engine=Engine(), bus=bus, router=None,  # type: ignore[arg-type]
             signals=[], session=None, interval_s=15, advance_clock=lambda _: None,
             catch_up=catch_up)
    return c, seen


def quotes(*ts_s: float) -> QuoteBatch:
    n = len(ts_s)
    return QuoteBatch.of([int(t * S) for t in ts_s], [0] * n, [10.0] * n, [10.01] * n,
                         [100.0] * n, [100.0] * n)


@pytest.mark.parametrize(("catch_up", "first", "after_gap"), [(True, 240, 40), (False, 1, 1)])
async def test_missed_ticks_are_replayed_only_in_replay(
    catch_up: bool, first: int, after_gap: int
) -> None:
    c, seen = core(catch_up)
    await c.on_batch(quotes(3600.5, 3601))  # an hour of ticks (every 15 s) before the first quote
    assert len(seen) == first and seen[-1].ts_ns == 3600 * S
    await c.on_batch(quotes(3610))  # no tick crossed
    assert len(seen) == first
    await c.on_batch(quotes(4200.2))  # ten silent minutes: 40 ticks crossed
    assert len(seen) == first + after_gap and seen[-1].ts_ns == 4200 * S
    await c.on_batch(quotes(4214, 4216))  # the next tick, in the middle of a batch
    assert len(seen) == first + after_gap + 1 and seen[-1].ts_ns == 4215 * S
    assert c.quotes == 6
