"""Decay / efficiency monitor for every held fund position.

Since entry it tracks the position's deviation from `L ×` the benchmark,
dev = (P/P₀ − 1) − L·(B/B₀ − 1), and the expected volatility drag over the intended holding
period, drag = (L² − L)·σ²·T/2 (DOMAIN.md §4). The stop on the position's own return tightens as
|dev| widens, stop = base_stop / (1 + |dev| / tighten_scale); it exits on the stop, when |dev|
exceeds `max_deviation_bp`, or when the expected drag exceeds the hedge's expected benefit.

Positions are watched per owning strategy, and the exit sets that strategy's target to 0 (targets
are per strategy). Strategies in `exempt_strategies` are never stopped: a hedge that is stopped
out is re-bought by its own signal at the next evaluation, paying the round trip each time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Fund, Universe
from inavd.domain.intents import Intent
from inavd.signals._common import BenchmarkVols, FundIndex
from inavd.signals.base import Context
from inavd.signals.config import DecayMonitorSettings
from inavd.signals.volatility import TRADING_DAYS


@dataclass(slots=True)
class Entry:
    fund_px: float
    bench_px: float


def deviation_bp(fund: Fund, e: Entry, fund_px: float, bench_px: float) -> float:
    return ((fund_px / e.fund_px - 1.0) - fund.leverage * (bench_px / e.bench_px - 1.0)) * 1e4


def expected_drag_bp(leverage: float, sigma: float, holding_days: float) -> float:
    """Expected loss to volatility drag over the holding period, bp (positive = a cost)."""
    return (leverage * leverage - leverage) * sigma * sigma * holding_days / TRADING_DAYS / 2 * 1e4


def stop_bp(cfg: DecayMonitorSettings, dev_bp: float) -> float:
    return cfg.base_stop_bp / (1.0 + abs(dev_bp) / cfg.tighten_scale_bp)


class DecayMonitor:
    name = "decay"

    def __init__(
        self, cfg: DecayMonitorSettings, universe: Universe, vols: BenchmarkVols | None = None
    ) -> None:
        self.cfg = cfg
        self.funds = {f.symbol: f for f in universe.funds if cfg.selects(f.symbol)}
        self.exempt = frozenset(cfg.exempt_strategies)
        self.entries: dict[tuple[str, str], Entry] = {}  # (owner, fund) → at first sight
        self.index = FundIndex(self.funds.__contains__)
        self.vols = vols or BenchmarkVols()
        benchmarks = {f.benchmark for f in self.funds.values()}
        self.vol = {b: self.vols.get(b, cfg.ewma_lambda) for b in benchmarks}

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        if not self.cfg.enabled:
            return []
        self.vols.update(ctx)
        self.index.update(ev.symbols)
        pos = self.index.pos
        watched = self._watched(ctx)
        # a position that went flat forgets its entry
        for key in [key for key in self.entries if key not in watched]:
            del self.entries[key]
        out: list[Intent] = []
        for (owner, sym), held in sorted(watched.items()):
            fund = self.funds[sym]
            px = float(ev.mid[pos[sym]])
            intent = self._watch(owner, fund, held, px, ctx.mid(fund.benchmark))
            if intent is not None:
                out.append(intent)
        return out

    def _watched(self, ctx: Context) -> dict[tuple[str, str], float]:
        """(owner, fund) → shares, for the fund positions of every strategy that is not exempt."""
        pos = self.index.pos
        return {
            (owner, sym): q
            for owner, held in ctx.owners().items()
            if owner not in self.exempt
            for sym, q in held.items()
            if q and sym in pos
        }

    def _watch(self, owner: str, fund: Fund, held: float, px: float, bpx: float) -> Intent | None:
        if not (px > 0 and bpx > 0):
            return None
        e = self.entries.get((owner, fund.symbol))
        if e is None:
            self.entries[(owner, fund.symbol)] = Entry(px, bpx)
            return None
        c = self.cfg.for_symbol(fund.symbol)
        dev = deviation_bp(fund, e, px, bpx)
        ret_bp = math.copysign(1.0, held) * (px / e.fund_px - 1.0) * 1e4
        why = ""
        if ret_bp <= -stop_bp(c, dev):
            why = f"stop: {ret_bp:+.0f} bp, stop {stop_bp(c, dev):.0f} bp at deviation {dev:+.0f}"
        elif abs(dev) >= c.max_deviation_bp:
            why = f"deviation {dev:+.0f} bp from {fund.leverage:g}× benchmark"
        else:
            v = self.vol[fund.benchmark]
            drag = expected_drag_bp(fund.leverage, v.annual, c.holding_days)
            if v.n >= c.min_samples and drag > c.benefit_bp:
                why = f"expected drag {drag:.0f} bp > benefit {c.benefit_bp:.0f} bp"
        if not why:
            return None
        # the exit moves the owner's target; a position no strategy claims is the monitor's own
        return Intent(owner or self.name, fund.symbol, 0.0, f"decay monitor: {why}")
