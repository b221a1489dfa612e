"""The run loop of a built app: the feed's batches into the core, paced and checkpointed."""

from __future__ import annotations

import time
from typing import Protocol

import structlog

from inavd.clock import SimClock
from inavd.domain.quotes import QuoteBatch
from inavd.domain.units import NS_PER_S
from inavd.execution.resume import ReplayResume
from inavd.ports import DaemonView

log = structlog.get_logger(__name__)


class FeedHost(DaemonView, Protocol):
    """What the loop reads of the app beyond the side channels' view (`App` satisfies it)."""

    @property
    def feed_total(self) -> int | None: ...  # quotes, when known in advance
    @property
    def live(self) -> bool: ...
    @property
    def resume(self) -> ReplayResume: ...


async def consume(app: FeedHost, started: float, quiet: bool = False) -> None:
    """Every batch of the feed through the core until it ends or a stop is asked."""
    total = app.feed_total or 0
    next_report = total // 10
    log.info(
        "feed starting",
        run_id=app.run_id,
        feed=app.feed.describe(),
        journal=str(app.journal.path),
    )
    async for batch in app.feed.batches():
        if not app.live:
            batch = app.resume.skip(app.core, batch)  # after a crash: already processed
            if not len(batch):
                continue
        for part in paced(app.clock, batch):
            # pace to the part's first quote, but never move the clock past the next tick:
            # the tick's evaluation (and its orders) must carry the tick's time, whatever the
            # batch boundaries are
            await app.clock.sleep_until(min(int(part.ts_ns[0]), app.core.next_tick_ns))
            await app.core.on_batch(part)
            await app.router.pump()  # iceberg slices, exit at close, periodic reconcile
            app.journal.commit_lazy()  # acknowledgements of this batch become durable
            app.resume.save(app.core)
        if total and app.core.quotes >= next_report and not quiet:
            progress(app, total, started)
            next_report += max(total // 10, 1)
        if app.stop_event.is_set():
            break


def paced(clock: object, batch: QuoteBatch) -> list[QuoteBatch]:
    """At a finite speed, hand the core at most one second of data at a time."""
    if not isinstance(clock, SimClock) or clock.speed <= 0 or not len(batch):
        return [batch]
    parts = []
    start = 0
    ts = batch.ts_ns
    while start < len(batch):
        stop = int(ts.searchsorted(ts[start] + NS_PER_S, side="left"))
        parts.append(batch.slice(start, max(stop, start + 1)))
        start = max(stop, start + 1)
    return parts


def progress(app: DaemonView, total: int, started: float) -> None:
    done = app.core.quotes
    rate = done / max(time.perf_counter() - started, 1e-9)
    log.info(
        "replay progress",
        percent=round(100 * done / max(total, 1)),
        quotes=done,
        quotes_per_s=round(rate),
        orders=app.collector.orders,
        fills=app.collector.fills,
    )
