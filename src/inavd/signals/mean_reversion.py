"""Mean reversion on the benchmark, traded through its inverse fund, intraday only.

The benchmark mid is sampled every `sample_s` seconds. An overextended rally — Wilder RSI above
`rsi_overbought` and the price above the upper Bollinger band (mean + k·σ of the last `bb_period`
samples) — buys the inverse fund; RSI back below `rsi_exit` or the price back to the mean exits.
Flat `flat_before_close_min` before the close: inverse funds decay overnight.

The expected edge of an entry is what the fund earns if the benchmark falls back to the mean,
|L|·(price − mean)/price; it must exceed the fund's estimated round trip. Kelly sizes the edge left
after costs, with the realised volatility of the sampled benchmark for the vol target.
"""

from __future__ import annotations

import math
from collections import deque

from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Universe
from inavd.domain.intents import Intent
from inavd.domain.units import NS_PER_S
from inavd.signals._common import clears_costs, default_inverse, round_trip_bp
from inavd.signals.base import Context
from inavd.signals.config import MeanReversionSettings
from inavd.signals.volatility import EwmaVol
from inavd.sizing.kelly import Sizer


class Rsi:
    """Wilder's RSI: simple averages over the first `period` changes, then smoothing by 1/period."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.gain = self.loss = 0.0
        self.n = 0
        self.last: float | None = None

    def update(self, price: float) -> float:
        if self.last is not None:
            ch = price - self.last
            g, lo = max(ch, 0.0), max(-ch, 0.0)
            self.n += 1
            if self.n <= self.period:
                self.gain += (g - self.gain) / self.n  # running mean of the first changes
                self.loss += (lo - self.loss) / self.n
            else:
                self.gain += (g - self.gain) / self.period
                self.loss += (lo - self.loss) / self.period
        self.last = price
        return self.value

    @property
    def value(self) -> float:
        if self.n < self.period:
            return math.nan
        if self.loss == 0.0:
            return 100.0 if self.gain > 0 else 50.0
        return 100.0 - 100.0 / (1.0 + self.gain / self.loss)


def bollinger(window: deque[float] | list[float], k: float) -> tuple[float, float, float]:
    """(lower, mean, upper) with the population standard deviation."""
    n = len(window)
    mean = sum(window) / n
    sd = math.sqrt(max(sum(x * x for x in window) / n - mean * mean, 0.0))
    return mean - k * sd, mean, mean + k * sd


class _Bench:
    def __init__(self, cfg: MeanReversionSettings, bench: str, fund: str, leverage: float) -> None:
        self.cfg = cfg.for_symbol(bench)  # the section with the benchmark's overrides, merged once
        self.fund = fund
        self.leverage = leverage
        self.vol = EwmaVol(0.94)  # of the sampled benchmark: the realised volatility sized on
        self.rsi = Rsi(cfg.rsi_period)
        self.window: deque[float] = deque(maxlen=cfg.bb_period)
        self.next_ns = 0
        self.bands: tuple[float, float, float] | None = None  # of the window, until it moves


class MeanReversion:
    name = "meanrev"

    def __init__(self, cfg: MeanReversionSettings, universe: Universe, sizer: Sizer) -> None:
        self.cfg = cfg
        self.sizer = sizer
        self.state: dict[str, _Bench] = {}
        for b in universe.benchmarks:
            fund = cfg.inverse_fund.get(b) or default_inverse(universe, b)
            lev = next((f.leverage for f in universe.funds if f.symbol == fund), None)
            if cfg.selects(b) and fund is not None and lev is not None:
                self.state[b] = _Bench(cfg, b, fund, lev)
        self._sample_ns = int(cfg.sample_s * NS_PER_S)

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        if not self.cfg.enabled:
            return []
        out: list[Intent] = []
        left = ctx.minutes_to_close
        for bench, st in self.state.items():
            price = ctx.mid(bench)
            if not price > 0:
                continue
            if ctx.now_ns >= st.next_ns:
                st.rsi.update(price)
                st.vol.update(ctx.now_ns, price)
                st.window.append(price)
                st.bands = None
                st.next_ns = ctx.now_ns + self._sample_ns
            intent = self._decide(bench, st, price, left, ctx)
            if intent is not None:
                out.append(intent)
        return out

    def _decide(
        self, bench: str, st: _Bench, price: float, left: float, ctx: Context
    ) -> Intent | None:
        c = st.cfg
        if len(st.window) < c.bb_period:  # the bands (and the RSI) are not warm yet
            return None
        rsi = st.rsi.value
        if math.isnan(rsi):
            return None
        held = ctx.own(self.name).get(st.fund, 0.0)
        if st.bands is None:
            st.bands = bollinger(st.window, c.bb_k)
        _, mean, upper = st.bands
        if held > 0:
            if left <= c.flat_before_close_min:
                return Intent(self.name, st.fund, 0.0, "flat before close")
            if rsi < c.rsi_exit or price <= mean:
                return Intent(self.name, st.fund, 0.0, f"{bench} reverted (RSI {rsi:.0f})")
            return None
        if left <= c.flat_before_close_min or rsi <= c.rsi_overbought or price <= upper:
            return None
        edge = abs(st.leverage) * (price - mean) / price * 1e4
        cost = round_trip_bp(self.sizer, ctx, st.fund)
        if not clears_costs(edge, cost):
            return None
        vol = st.vol.warm(c.bb_period)
        px = ctx.mid(st.fund)
        qty = self.sizer.shares(st.fund, px, edge - cost, c.stdev_bp, vol, st.leverage)
        if qty <= 0:
            return None
        reason = (
            f"{bench} overextended: RSI {rsi:.0f}, {price:.2f} > upper band {upper:.2f};"
            f" edge {edge:.1f} bp > round trip {cost:.1f} bp"
        )
        return Intent(self.name, st.fund, qty, reason)
