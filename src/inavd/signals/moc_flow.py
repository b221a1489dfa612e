"""Rebalance-flow (MOC) anticipation.

Each leveraged or inverse fund must trade A·(L² − L)·R + L·F of benchmark exposure at the close
(DOMAIN.md §3; the engine computes it per fund and sums it per benchmark into
`flow_by_benchmark`). L² − L > 0 for every inverse fund too, so the flow always has the sign of
the benchmark's move: on a down day inverse funds **sell** (SH, A = 100, R = −10 %: sells 20).
When |flow| is at least `min_flow_fraction` of the benchmark's typical closing volume, take a
position in the benchmark proxy in the flow's direction `entry_min_before_close` minutes before
the close and exit it in the closing auction with a market-on-close (`cls`) order.

The expected edge is the configured `edge_bp` (the close's expected move towards the flow); the
entry must beat the round trip of the benchmark, which crosses the spread once and pays only fees
on the auction exit. Kelly sizes the edge left after costs with the benchmark's realised
volatility (an EWMA of its mid) for the vol target.
"""

from __future__ import annotations

import math
from datetime import date
from enum import Enum

from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Universe
from inavd.domain.intents import Intent
from inavd.domain.orders import TimeInForce
from inavd.signals._common import BenchmarkVols, clears_costs, round_trip_bp
from inavd.signals.base import Context
from inavd.signals.config import MocFlowSettings
from inavd.sizing.kelly import Sizer

WARM_SAMPLES = 20


class Phase(Enum):
    IDLE = 0
    ENTERED = 1  # in the position, exit not yet sent
    DONE = 2  # exit sent (or no trade) for the day


def flow_fraction(flow_usd: float, closing_volume_usd: float) -> float:
    return abs(flow_usd) / closing_volume_usd if closing_volume_usd > 0 else 0.0


class MocFlow:
    name = "mocflow"

    def __init__(
        self,
        cfg: MocFlowSettings,
        universe: Universe,
        sizer: Sizer,
        vols: BenchmarkVols | None = None,
    ) -> None:
        self.cfg = cfg
        self.sizer = sizer
        self.benchmarks = tuple(
            b for b in universe.benchmarks if cfg.selects(b) and b in cfg.closing_volume_usd
        )
        # each benchmark's section with its overrides, merged once (the settings are frozen)
        self._cfg_of = {b: cfg.for_symbol(b) for b in self.benchmarks}
        # minutes to the close between which some benchmark may enter: outside, a step only
        # sends the exits of the positions entered
        self._entry_from = max((c.entry_min_before_close for c in self._cfg_of.values()), default=0)
        self._entry_to = min((c.exit_cutoff_min for c in self._cfg_of.values()), default=0) + 1.0
        self.phase: dict[str, Phase] = {}
        self.day: date | None = None
        self.vols = vols or BenchmarkVols()
        self.vol = {b: self.vols.get(b, 0.94) for b in self.benchmarks}

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        if not self.cfg.enabled or ctx.session is None:
            return []
        if ctx.session.day != self.day:  # a new session starts idle
            self.day, self.phase = ctx.session.day, {}
        self.vols.update(ctx)
        left = ctx.minutes_to_close
        if not self.phase and not self._entry_to < left <= self._entry_from:
            return []  # nothing entered to exit, and no benchmark in its entry window
        out: list[Intent] = []
        for bench in self.benchmarks:
            intent = self._step(bench, ev.flow_by_benchmark.get(bench, 0.0), left, ctx)
            if intent is not None:
                out.append(intent)
        return out

    def _step(self, bench: str, flow: float, left: float, ctx: Context) -> Intent | None:
        c = self._cfg_of[bench]
        phase = self.phase.get(bench, Phase.IDLE)
        if phase is Phase.ENTERED and left > c.exit_cutoff_min:
            self.phase[bench] = Phase.DONE
            return Intent(
                self.name, bench, 0.0, "exit in the closing auction", time_in_force=TimeInForce.CLS
            )
        # leave at least a minute to send the MOC exit before the cutoff
        in_window = c.exit_cutoff_min + 1.0 < left <= c.entry_min_before_close
        if phase is not Phase.IDLE or not in_window:
            return None
        frac = flow_fraction(flow, c.closing_volume_usd[bench])
        if not math.isfinite(flow) or frac < c.min_flow_fraction:
            return None
        cost = round_trip_bp(self.sizer, ctx, bench, close_exit=True)
        if not clears_costs(c.edge_bp, cost):
            return None
        vol = self.vol[bench].warm(WARM_SAMPLES)
        qty = self.sizer.shares(bench, ctx.mid(bench), c.edge_bp - cost, c.stdev_bp, vol)
        if qty <= 0:
            return None
        self.phase[bench] = Phase.ENTERED
        side = "buy" if flow > 0 else "sell"
        reason = (
            f"MOC flow {flow / 1e6:+,.0f} M USD = {frac:.1%} of closing volume: {side}"
            f" (edge {c.edge_bp:.1f} bp > round trip {cost:.1f} bp)"
        )
        return Intent(self.name, bench, qty if flow > 0 else -qty, reason)
