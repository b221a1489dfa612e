"""Volatility-weighted hedging of a configured beta exposure with an inverse fund.

hedge USD = beta USD · clip(base_ratio · σ / target_vol, min_ratio, max_ratio), held as
hedge USD / (|L| · P) shares of the inverse fund. σ blends the intraday EWMA of the benchmark
(once warmed up) with the GARCH(1,1) daily forecast (or its EWMA fallback); a configured VIX level
(percent) is averaged in. The position is only traded when the target moves by more than
`rebalance_band` of the current holding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Fund, Universe
from inavd.domain.intents import Intent
from inavd.domain.plain import plain
from inavd.signals._common import BenchmarkVols, default_inverse
from inavd.signals.base import Context
from inavd.signals.config import VolHedgeSettings
from inavd.signals.volatility import DailyVol, EwmaVol
from inavd.sizing.kelly import Sizer

WARM_SAMPLES = 20


def blended_vol(intraday: float, daily: float, vix: float | None) -> float:
    has_intraday = math.isfinite(intraday) and intraday > 0
    has_daily = math.isfinite(daily) and daily > 0
    if has_intraday and has_daily:
        sigma = (intraday + daily) / 2
    else:
        sigma = intraday if has_intraday else daily if has_daily else math.nan
    if vix is not None:
        sigma = vix / 100.0 if math.isnan(sigma) else 0.5 * (sigma + vix / 100.0)
    return sigma


def hedge_ratio(sigma: float, cfg: VolHedgeSettings) -> float:
    if not math.isfinite(sigma):
        return cfg.base_ratio
    return min(max(cfg.base_ratio * sigma / cfg.target_vol, cfg.min_ratio), cfg.max_ratio)


@dataclass(frozen=True, slots=True)
class _Leg:
    """One hedged benchmark and what about it is fixed for the day."""

    bench: str
    fund: Fund
    cfg: VolHedgeSettings  # the section with the hedge fund's overrides, merged once (plain)
    ewma: EwmaVol  # intraday, of the benchmark's mid
    daily: DailyVol | None  # the GARCH forecast (or its fallback)
    beta_usd: float  # the benchmark's configured beta exposure (cfg.portfolio_beta_usd)
    # the reason's text between the ratio and σ, formatted once: it never changes
    reason_mid: str

    def sigma(self, vix: float | None) -> float:
        """σ of the benchmark: the intraday EWMA (once warm) blended with the daily forecast."""
        e, d = self.ewma, self.daily
        intraday = e.annual if e.n >= WARM_SAMPLES else math.nan
        return blended_vol(intraday, d.annual if d else math.nan, vix)


class VolHedge:
    name = "volhedge"

    def __init__(
        self,
        cfg: VolHedgeSettings,
        universe: Universe,
        sizer: Sizer,
        daily: Mapping[str, DailyVol] | None = None,
        vols: BenchmarkVols | None = None,
    ) -> None:
        self.cfg = cfg
        self._c = plain(cfg)  # read for every leg at every step (`inavd.domain.plain`)
        self.sizer = sizer
        self.daily = dict(daily or {})
        self.legs: dict[str, Fund] = {}
        for bench in cfg.portfolio_beta_usd:
            sym = cfg.hedge_fund.get(bench) or default_inverse(universe, bench)
            fund = next((f for f in universe.funds if f.symbol == sym), None)
            if fund is not None and fund.leverage < 0:
                self.legs[bench] = fund
        self.vols = vols or BenchmarkVols()
        self.ewma = {b: self.vols.get(b, cfg.ewma_lambda) for b in self.legs}
        self._legs = {b: self._leg(b, f) for b, f in self.legs.items()}
        # benchmark → (σ, fund price, holding) of the last decision, and the decision
        self._decided: dict[str, tuple[tuple[float | None, float, float], Intent | None]] = {}

    def _leg(self, bench: str, fund: Fund) -> _Leg:
        c = plain(self.cfg.for_symbol(fund.symbol))
        beta = c.portfolio_beta_usd[bench]
        mid = f" × {beta:,.0f} USD {bench} (σ "
        return _Leg(bench, fund, c, self.ewma[bench], self.daily.get(bench), beta, mid)

    def sigma(self, bench: str) -> float:
        return self._legs[bench].sigma(self.cfg.vix)

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        if not self._c.enabled:
            return []
        self.vols.update(ctx)
        mine = ctx.own(self.name)
        out: list[Intent] = []
        vix = self._c.vix
        decided = self._decided
        for leg in self._legs.values():
            sigma = leg.sigma(vix)  # it moves at every step: four legs a step
            sym = leg.fund.symbol
            px, held = ctx.mid(sym), mine.get(sym, 0.0)
            # the target is decided by σ, the fund's price and the holding: unchanged numbers
            # give the same decision, so it is not sized and its reason not formatted again (σ
            # nan, no estimate yet, enters as None: nan equals nothing, and compiled, each read
            # is a new float, so a tuple's identity test would not find it either)
            inputs = (None if math.isnan(sigma) else sigma, px, held)
            last = decided.get(leg.bench)
            if last is not None and last[0] == inputs:
                intent = last[1]
            else:
                intent = self._decide(leg, sigma, px, held)
                decided[leg.bench] = (inputs, intent)
            if intent is not None:
                out.append(intent)
        return out

    def _decide(self, leg: _Leg, sigma: float, px: float, held: float) -> Intent | None:
        c, fund = leg.cfg, leg.fund
        ratio = hedge_ratio(sigma, c)
        usd = leg.beta_usd * ratio
        qty = self.sizer.shares_for_notional(fund.symbol, px, usd / abs(fund.leverage))
        if qty == held or abs(qty - held) <= c.rebalance_band * abs(held):
            return None
        # "hedge 0.50 × 50,000 USD SPY (σ 16.0%)"
        return Intent(self.name, fund.symbol, qty, f"hedge {ratio:.2f}{leg.reason_mid}{sigma:.1%})")
