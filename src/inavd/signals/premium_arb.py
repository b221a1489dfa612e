"""Premium/discount arbitrage inside the rebalance window before the close.

When a fund's mid is more than `threshold_bp` away from its iNAV (and beyond `half_spread_mult`
half-spreads), buy it at a discount or sell it at a premium (only where the fund may be shorted),
and hedge the fund's benchmark exposure (q·P·L dollars) in the benchmark proxy. Exit when the
premium is back within `exit_bp` (or has flipped), or at the window's end.

The expected edge of an entry is what the premium gives back before the exit, |premium| − exit_bp;
it must exceed the estimated round trip of the fund plus, when hedged, |L| times the round trip
of the benchmark leg (the hedge is |L| times the fund's notional). Kelly sizes the edge left after
those costs, with the benchmark's realised volatility (an EWMA of its mid) for the vol target.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Fund, Universe
from inavd.domain.intents import Intent
from inavd.domain.plain import plain
from inavd.signals._common import (
    BenchmarkVols,
    FundIndex,
    Touch,
    clears_costs,
    touch_round_trip_bp,
)
from inavd.signals.base import Context
from inavd.signals.config import PremiumArbSettings
from inavd.sizing.kelly import Sizer

WARM_SAMPLES = 20  # evaluations of the benchmark before its realised volatility is used
HEDGE_BAND = 0.10  # relative change of the hedge target before it is traded


class PremiumArb:
    name = "premarb"

    def __init__(
        self,
        cfg: PremiumArbSettings,
        universe: Universe,
        sizer: Sizer,
        can_short: Callable[[str], bool] = lambda _: True,
        vols: BenchmarkVols | None = None,
    ) -> None:
        self.cfg = cfg
        self._c = plain(cfg)  # read at every step (`inavd.domain.plain`)
        self.sizer = sizer
        # a premium is only captured by selling the fund itself: where that short is refused,
        # no entry (and so no hedge for a position that never comes)
        self.can_short = can_short
        self.funds = {f.symbol: f for f in universe.funds if cfg.selects(f.symbol)}
        # each fund's section with its overrides, merged once (the settings are frozen), as a
        # plain copy: its thresholds are read for every fund visited
        self._cfg_of = {s: plain(cfg.for_symbol(s)) for s in self.funds}
        self.benchmarks = tuple(sorted({f.benchmark for f in self.funds.values()}))
        self.index = FundIndex(self.funds.__contains__)
        self._thr = self._start = self._end = np.zeros(0)
        self._uniform = False
        self.vols = vols or BenchmarkVols()
        self.vol = {b: self.vols.get(b, 0.94) for b in self.benchmarks}
        # fund → (the numbers an entry was decided on, the decision)
        self._entered: dict[str, tuple[tuple[object, ...], Intent | None]] = {}

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        if not self._c.enabled:
            return []
        left = ctx.minutes_to_close
        self.vols.update(ctx)
        if self.index.update(ev.symbols):
            self._per_fund(ev.symbols)
        out: list[Intent] = []
        mine = ctx.own(self.name)
        premium, mids = ev.premium_bp, ev.mid
        for j in self.index.with_held(self._found(ev, left), mine):
            sym = ev.symbols[j]
            c = self._cfg_of[sym]
            in_window = c.window_end_min < left <= c.window_start_min
            held = mine.get(sym, 0.0)
            p, mid = premium.item(j), mids.item(j)
            intent = self._decide(sym, c, held, p, mid, in_window, ctx)
            if intent is not None:
                out.append(intent)
        if self._c.hedge:
            out.extend(self._hedge_legs(ctx, out))
        return out

    def _per_fund(self, symbols: tuple[str, ...]) -> None:
        """Each fund's (overridable) threshold and window, aligned with the event's symbols."""
        cfgs = [self.cfg.for_symbol(s) for s in symbols]
        self._thr = np.array([c.threshold_bp for c in cfgs])
        self._start = np.array([c.window_start_min for c in cfgs])
        self._end = np.array([c.window_end_min for c in cfgs])
        # without per-fund overrides the window is one test of the clock, not three array ops
        self._uniform = not any(s in self.cfg.overrides for s in self.funds)

    def _entries(self, ev: InavEvaluated, left: float) -> npt.NDArray[np.bool_] | None:
        """Funds in their window with |premium| ≥ threshold (nan premiums compare False)."""
        if self._uniform:
            c = self.cfg
            if not c.window_end_min < left <= c.window_start_min:
                return None
            return np.abs(ev.premium_bp) >= c.threshold_bp
        return (self._end < left) & (left <= self._start) & (np.abs(ev.premium_bp) >= self._thr)

    def _found(self, ev: InavEvaluated, left: float) -> list[int]:
        """Our funds among `_entries`, in event order (with few funds and one window, tested
        fund by fund: the same comparisons without the numpy calls)."""
        index = self.index
        if self._uniform and index.small:
            c = self._c
            if not c.window_end_min < left <= c.window_start_min:
                return []
            premium, thr = ev.premium_bp, c.threshold_bp
            return [j for j in index.order if abs(premium.item(j)) >= thr]
        entries = self._entries(ev, left)
        return [] if entries is None else (entries & index.mask).nonzero()[0].tolist()

    def _decide(
        self,
        sym: str,
        c: PremiumArbSettings,
        held: float,
        p: float,
        mid: float,
        in_window: bool,
        ctx: Context,
    ) -> Intent | None:
        if held != 0.0:
            if not in_window:
                return Intent(self.name, sym, 0.0, "arbitrage window over")
            if not math.isfinite(p):
                return Intent(self.name, sym, 0.0, "no iNAV")
            closed = p >= -c.exit_bp if held > 0 else p <= c.exit_bp
            return Intent(self.name, sym, 0.0, f"premium closed ({p:+.1f} bp)") if closed else None
        if not in_window or not math.isfinite(p) or abs(p) < c.threshold_bp:
            return None
        index = ctx.book.index
        bids, asks = ctx.quotes
        i = index[sym]
        bid, ask = bids[i], asks[i]
        if abs(p) < c.half_spread_mult * ((ask - bid) / (ask + bid) * 1e4):  # half_spread_bp
            return None
        # an entry is decided by the premium, the two legs' quotes, the benchmark's volatility
        # and the venue's word on a short: on the same numbers it is the same decision
        fund = self.funds[sym]
        vol = self.vol[fund.benchmark].warm(WARM_SAMPLES)
        k = index.get(fund.benchmark)
        bench = None if k is None else (bids[k], asks[k])  # `ctx.touch`
        shortable = p > 0 and self.can_short(sym)
        inputs = (p, mid, bid, ask, bench, vol, shortable)
        last = self._entered.get(sym)
        if last is not None and last[0] == inputs:
            return last[1]
        if p > 0 and not shortable:
            intent = None  # no short, no entry (and no hedge)
        else:
            intent = self._enter(fund, c, p, mid, vol, (bid, ask), bench)
        self._entered[sym] = (inputs, intent)
        return intent

    def _enter(
        self,
        fund: Fund,
        c: PremiumArbSettings,
        p: float,
        mid: float,
        vol: float | None,
        quote: Touch,
        bench: Touch | None,
    ) -> Intent | None:
        """The entry, once the venue has lent the fund for a premium's short."""
        sym = fund.symbol
        edge, cost = abs(p) - c.exit_bp, self._round_trip(fund, quote, bench)
        if not clears_costs(edge, cost):
            return None
        qty = self.sizer.shares(sym, mid, edge - cost, c.stdev_bp, vol, fund.leverage)
        if qty <= 0:
            return None
        side = "discount" if p < 0 else "premium"
        reason = f"{side} {p:+.1f} bp to iNAV: edge {edge:.1f} bp > round trip {cost:.1f} bp"
        return Intent(self.name, sym, qty if p < 0 else -qty, reason)

    def round_trip(self, ctx: Context, sym: str) -> float:
        """The fund's round trip, plus the hedge's: |L| × the benchmark's, per fund notional."""
        fund = self.funds[sym]
        return self._round_trip(fund, ctx.touch(sym), ctx.touch(fund.benchmark))

    def _round_trip(self, fund: Fund, quote: Touch | None, bench: Touch | None) -> float:
        """`round_trip` at the two legs' touches (read once by the caller)."""
        cost = touch_round_trip_bp(self.sizer, fund.symbol, quote)
        if self._c.hedge:
            bench_bp = touch_round_trip_bp(self.sizer, fund.benchmark, bench)
            cost += abs(fund.leverage) * bench_bp
        return cost

    def _hedge_legs(self, ctx: Context, now: list[Intent]) -> list[Intent]:
        """Benchmark shares offsetting the fund shares this strategy holds (fills and working
        orders) after this step's exits: an entry is hedged at the evaluation after it is sent, so
        a fund order that a gate denied is never hedged, and a hedge a gate denied is asked for
        again; an exit (which the gates let through) takes its hedge with it at once."""
        mine = ctx.own(self.name)
        if not mine:  # nothing held: no exposure, no hedge held, every target 0 and held
            return []
        held = dict(mine)
        for i in now:
            if i.symbol in self.funds and abs(i.target_qty) < abs(held.get(i.symbol, 0.0)):
                held[i.symbol] = i.target_qty
        exposure: dict[str, float] = {}
        for sym, q in held.items():
            fund = self.funds.get(sym)
            if fund is not None:
                e = q * ctx.mid(sym) * fund.leverage
                exposure[fund.benchmark] = exposure.get(fund.benchmark, 0.0) + e
        out = []
        for bench in self.benchmarks:
            have = mine.get(bench, 0.0)
            if bench not in exposure and not have:
                continue  # no exposure and no hedge: the target is 0 and is held
            px = ctx.mid(bench)
            if not px > 0:
                continue
            target = float(math.trunc(-exposure.get(bench, 0.0) / px))
            # prices move the exposure a little every step: retrade only beyond the band
            if target == have or (target and abs(target - have) < HEDGE_BAND * abs(target)):
                continue
            out.append(Intent(self.name, bench, target, "hedge of premium positions"))
        return out
