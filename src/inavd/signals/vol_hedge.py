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

from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Fund, Universe
from inavd.domain.intents import Intent
from inavd.signals._common import book_mid, default_inverse
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


class VolHedge:
    name = "volhedge"

    def __init__(
        self,
        cfg: VolHedgeSettings,
        universe: Universe,
        sizer: Sizer,
        daily: Mapping[str, DailyVol] | None = None,
    ) -> None:
        self.cfg = cfg
        self.sizer = sizer
        self.daily = dict(daily or {})
        self.legs: dict[str, Fund] = {}
        for bench in cfg.portfolio_beta_usd:
            sym = cfg.hedge_fund.get(bench) or default_inverse(universe, bench)
            fund = next((f for f in universe.funds if f.symbol == sym), None)
            if fund is not None and fund.leverage < 0:
                self.legs[bench] = fund
        self.ewma = {b: EwmaVol(cfg.ewma_lambda) for b in self.legs}
        # benchmark → (σ, fund price, holding) of the last decision, and the decision
        self._decided: dict[str, tuple[tuple[float, float, float], Intent | None]] = {}

    def sigma(self, bench: str) -> float:
        e = self.ewma[bench]
        intraday = e.annual if e.n >= WARM_SAMPLES else math.nan
        d = self.daily.get(bench)
        return blended_vol(intraday, d.annual if d else math.nan, self.cfg.vix)

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        if not self.cfg.enabled:
            return []
        out: list[Intent] = []
        for bench, fund in self.legs.items():
            self.ewma[bench].update(ctx.now_ns, book_mid(ctx, bench))
            intent = self._target(bench, fund, ctx)
            if intent is not None:
                out.append(intent)
        return out

    def _target(self, bench: str, fund: Fund, ctx: Context) -> Intent | None:
        sigma = self.sigma(bench)
        px = book_mid(ctx, fund.symbol)
        held = ctx.own(self.name).get(fund.symbol, 0.0)
        # the target is decided by σ, the fund's price and the holding: unchanged numbers give
        # the same decision, so it is not sized and its reason not formatted again
        inputs = (sigma, px, held)
        last = self._decided.get(bench)
        if last is not None and last[0] == inputs:
            return last[1]
        intent = self._decide(bench, fund, sigma, px, held)
        self._decided[bench] = (inputs, intent)
        return intent

    def _decide(
        self, bench: str, fund: Fund, sigma: float, px: float, held: float
    ) -> Intent | None:
        c = self.cfg.for_symbol(fund.symbol)
        ratio = hedge_ratio(sigma, c)
        usd = c.portfolio_beta_usd[bench] * ratio
        qty = self.sizer.shares_for_notional(fund.symbol, px, usd / abs(fund.leverage))
        if qty == held or abs(qty - held) <= c.rebalance_band * abs(held):
            return None
        beta = c.portfolio_beta_usd[bench]
        reason = f"hedge {ratio:.2f} × {beta:,.0f} USD {bench} (σ {sigma:.1%})"
        return Intent(self.name, fund.symbol, qty, reason)
