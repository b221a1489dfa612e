"""The event-driven core shared by live, paper and replay.

Quotes go into the book; at every iNAV tick (aligned to the session open, every `interval_s` of
data time) the engine evaluates all funds, the result is published, signals turn it into intents
and the router into orders. Time comes from the data and the injected clock only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from inavd.book.quote_book import QuoteBook
from inavd.bus import Bus
from inavd.calendar import Session
from inavd.domain.events import InavEvaluated, SessionClosed, freeze
from inavd.domain.quotes import QuoteBatch
from inavd.domain.units import NS_PER_S
from inavd.execution.router import OrderRouter
from inavd.inav.engine import InavEngine
from inavd.signals.base import Context, Signal

MarketListener = Callable[[int], None]
CloseListener = Callable[[dict[str, float], int], None]


class Venue(Protocol):
    """A simulated venue that matches working orders against every quote (the paper broker)."""

    def next_match(self, batch: QuoteBatch) -> int: ...

    def on_market(self, now_ns: int) -> None: ...


class Core:
    def __init__(
        self,
        *,
        book: QuoteBook,
        engine: InavEngine,
        bus: Bus,
        router: OrderRouter,
        signals: Sequence[Signal],
        session: Session | None,
        interval_s: float,
        advance_clock: Callable[[int], None],
        catch_up: bool = True,
    ) -> None:
        self.book = book
        self.engine = engine
        self.bus = bus
        self.router = router
        self.signals = list(signals)
        self.session = session
        self.interval_ns = int(interval_s * NS_PER_S)
        self.advance_clock = advance_clock
        # replay: every tick is evaluated (deterministic). Live: ticks nobody saw (a start in
        # mid-session, a silent spell) are skipped, not re-run one after another on one book
        self.catch_up = catch_up
        self.venue: Venue | None = None  # stops the book at every quote an order may fill on
        self.market_listeners: list[MarketListener] = []
        self.close_listeners: list[CloseListener] = []
        self.now_ns = 0
        self.evaluations = 0
        self.last_eval_s = 0.0  # wall time of the latest engine evaluation (metrics)
        self.step_s_total = 0.0  # whole steps: evaluation, its listeners, signals and orders
        self.step_s_max = 0.0
        self.quotes = 0
        self.closed = False
        start = session.open_ns if session else 0
        self.next_tick_ns = start + self.interval_ns

    # ------------------------------------------------------------------ quotes
    async def on_batch(self, batch: QuoteBatch) -> None:
        """Apply a batch, evaluating at every tick it crosses (quotes before a tick count)."""
        while len(batch):
            last_ts = int(batch.ts_ns[-1])
            if self.session is not None and not self.closed and last_ts >= self.session.close_ns:
                k = int(np.searchsorted(batch.ts_ns, self.session.close_ns, side="left"))
                await self._consume_until_tick(batch.slice(0, k))
                await self.close_session()
                batch = batch.slice(k, len(batch))
                self._apply(batch)
                return
            await self._consume_until_tick(batch)
            return

    async def _consume_until_tick(self, batch: QuoteBatch) -> None:
        if not self.catch_up and len(batch):
            behind = (int(batch.ts_ns[-1]) - self.next_tick_ns) // self.interval_ns
            if behind > 0:
                self.next_tick_ns += behind * self.interval_ns
        while len(batch) and int(batch.ts_ns[-1]) >= self.next_tick_ns:
            k = int(np.searchsorted(batch.ts_ns, self.next_tick_ns, side="left"))
            self._apply(batch.slice(0, k))
            self._set_time(self.next_tick_ns)
            await self.evaluate()
            self.next_tick_ns += self.interval_ns
            batch = batch.slice(k, len(batch))
        self._apply(batch)

    def _apply(self, batch: QuoteBatch) -> None:
        """Apply quotes; with a venue, stop at each quote a working order may fill against, so
        it matches at that quote's time and price whatever the batch boundaries are."""
        while len(batch):
            k = self.venue.next_match(batch) if self.venue is not None else -1
            part = batch if k < 0 else batch.slice(0, k + 1)
            self.quotes += len(part)
            self.book.apply(part)
            self._set_time(int(part.ts_ns[-1]))
            if self.venue is not None:
                self.venue.on_market(self.now_ns)
            for listener in self.market_listeners:
                listener(self.now_ns)
            batch = batch.slice(len(part), len(batch))

    def _set_time(self, ts_ns: int) -> None:
        if ts_ns > self.now_ns:
            self.now_ns = ts_ns
            self.advance_clock(ts_ns)

    # ------------------------------------------------------------------ evaluation
    async def evaluate(self) -> InavEvaluated:
        """One iNAV evaluation → one event → signals → orders. Also callable on demand."""
        t0 = time.perf_counter()
        r = self.engine.evaluate(self.now_ns)
        self.last_eval_s = time.perf_counter() - t0
        self.evaluations += 1
        ev = InavEvaluated(
            ts_ns=self.now_ns,
            symbols=self.engine.fund_symbols,
            inav=freeze(r.inav),
            mid=freeze(r.mid),
            premium_bp=freeze(r.premium_bp),
            benchmark_move=freeze(r.benchmark_move),
            flow_usd=freeze(r.flow_usd),
            flow_by_benchmark={
                b: float(v)
                for b, v in zip(self.engine.universe.benchmarks, r.flow_by_benchmark, strict=True)
            },
            seq=self.evaluations,
        )
        self.bus.publish(ev)
        if self.session is not None and self.session.contains(self.now_ns):
            await self._run_signals(ev)
        step = time.perf_counter() - t0
        self.step_s_total += step
        self.step_s_max = max(self.step_s_max, step)
        return ev

    async def _run_signals(self, ev: InavEvaluated) -> None:
        positions = self.router.expected_positions(self.book.index)
        by_strategy = self.router.strategy_positions()
        ctx = Context(self.now_ns, self.session, self.book, positions, by_strategy)
        for signal in self.signals:
            for intent in signal.on_inav(ev, ctx):
                await self.router.handle(intent)

    async def close_session(self) -> None:
        """The closing auction: closing prices are the book's mids at the close."""
        if self.closed or self.session is None:
            return
        self._set_time(self.session.close_ns)
        await self.evaluate()
        self.closed = True
        mids = self.book.mid
        closing = {s: float(mids[i]) for s, i in self.book.index.items() if np.isfinite(mids[i])}
        for listener in self.close_listeners:
            listener(closing, self.now_ns)
        self.bus.publish(SessionClosed(self.now_ns, closing))
