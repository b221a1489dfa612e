"""Volatility-weighted hedge: EWMA, GARCH(1,1) with its fallback, the hedge ratio and size."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.kit import strategy as k

from inavd.signals.config import VolHedgeSettings
from inavd.signals.vol_hedge import VolHedge, blended_vol, hedge_ratio
from inavd.signals.volatility import DailyVol, EwmaVol, garch_daily_vol
from inavd.sizing import Sizer, SizingSettings


def simulate_garch(n: int, omega: float, alpha: float, beta: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = np.empty(n)
    var = omega / (1 - alpha - beta)
    for t in range(n):
        r[t] = math.sqrt(var) * rng.standard_normal()
        var = omega + alpha * r[t] ** 2 + beta * var
    return r


def test_garch_fit_on_a_garch_series() -> None:
    # daily σ ≈ 1 % (unconditional var 1e-4): about 16 % a year
    r = simulate_garch(1500, 1e-5, 0.08, 0.82)
    d = garch_daily_vol(r)
    assert d.method == "garch"
    assert 0.08 < d.annual < 0.35


def test_garch_fallbacks_are_explicit() -> None:
    short = garch_daily_vol(np.full(30, 0.01) * np.resize([1, -1], 30))
    assert short.method == "ewma" and "< 60" in short.detail
    assert short.annual == pytest.approx(0.01 * math.sqrt(252))
    assert garch_daily_vol(np.array([0.01])).method == "none"


def test_ewma_vol_annualises_per_second_variance() -> None:
    e = EwmaVol(0.94)
    e.update(0, 100.0)
    e.update(15_000_000_000, 100.0 * math.exp(0.001))  # one 10 bp move in 15 s
    assert e.annual == pytest.approx(math.sqrt(1e-6 / 15 * 252 * 6.5 * 3600))


def test_ratio_scales_with_vol_and_is_clipped() -> None:
    cfg = VolHedgeSettings(base_ratio=0.5, target_vol=0.16, max_ratio=1.0)
    assert hedge_ratio(0.16, cfg) == 0.5
    assert hedge_ratio(0.24, cfg) == pytest.approx(0.75)
    assert hedge_ratio(0.80, cfg) == 1.0
    assert hedge_ratio(math.nan, cfg) == 0.5
    assert blended_vol(math.nan, 0.20, None) == 0.20
    assert blended_vol(0.10, 0.20, 30.0) == pytest.approx(0.225)


def test_hedge_size_and_rebalance_band() -> None:
    u = k.universe()
    cfg = VolHedgeSettings(enabled=True, portfolio_beta_usd={"SPY": 100_000}, daily_closes="")
    sig = VolHedge(cfg, u, Sizer(SizingSettings()), {"SPY": DailyVol(0.24, "garch")})
    t = k.at(11, 0)
    b = k.book(u, {"SPY": (269.99, 270.01), "SH": (24.99, 25.01)}, t)
    # ratio 0.75 → 75,000 USD of SH (L = −1) at 25 → 3,000 shares
    (i,) = sig.on_inav(k.event(u, t, {"SH": 25.0}), k.context(b, t))
    assert (i.symbol, i.target_qty) == ("SH", 3000.0)
    assert sig.on_inav(k.event(u, t, {"SH": 25.0}), k.context(b, t, {"SH": 2800})) == []
