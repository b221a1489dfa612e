"""Volatility-weighted hedge: EWMA, GARCH(1,1) with its fallback, the hedge ratio and size."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from tests.kit import strategy as k
from tests.kit.garch import simulate_garch

from inavd.signals import volatility
from inavd.signals.config import VolHedgeSettings
from inavd.signals.garch import GarchFit, fit_garch11
from inavd.signals.vol_hedge import VolHedge, blended_vol, hedge_ratio
from inavd.signals.volatility import DailyVol, EwmaVol, garch_daily_vol
from inavd.sizing import Sizer, SizingSettings


@pytest.fixture
def uncached() -> Iterator[None]:
    """Fits are kept per process by their input series: a test that replaces the estimator
    must neither get a fit kept before it nor leave its own behind."""
    volatility._fit_of.cache_clear()
    yield
    volatility._fit_of.cache_clear()


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
    flat = garch_daily_vol(np.full(100, 0.001))
    assert flat.method == "ewma" and flat.detail == "constant returns"


def test_garch_on_a_variance_trend_is_non_stationary_and_falls_back() -> None:
    # volatility growing steadily over the sample: the fit runs to α + β = 1 (IGARCH)
    r = np.random.default_rng(3).standard_normal(400) * np.exp(np.linspace(0, 2.5, 400)) / 100
    d = garch_daily_vol(r)
    assert d.method == "ewma" and d.detail.startswith("unusable fit (α+β = 1.000")
    assert d.annual == pytest.approx(volatility.ewma_daily(r))


def test_a_fit_out_of_evaluations_reports_no_convergence() -> None:
    r = np.random.default_rng(3).standard_normal(400) * np.exp(np.linspace(0, 2.5, 400))
    assert not fit_garch11(r, max_evals=20).converged


@pytest.mark.parametrize(
    ("fit", "why"),
    [
        (GarchFit(0.0, 0.01, 0.1, 0.8, -700.0, 1.0, False, 6000), "no convergence after 6000"),
        (GarchFit(0.0, 0.01, 0.2, 0.8, -700.0, 1.0, True, 90), "unusable fit (α+β = 1.000"),
        (GarchFit(0.0, 0.01, 0.1, 0.8, -700.0, math.nan, True, 90), "unusable fit (α+β = 0.900"),
        (GarchFit(0.0, 0.01, 0.1, 0.8, -700.0, math.inf, True, 90), "forecast inf"),
    ],
)
@pytest.mark.usefixtures("uncached")
def test_garch_results_that_cannot_be_trusted_fall_back(
    monkeypatch: pytest.MonkeyPatch, fit: GarchFit, why: str
) -> None:
    monkeypatch.setattr(volatility, "fit_garch11", lambda y: fit)
    r = simulate_garch(300, 1e-5, 0.08, 0.82)
    d = garch_daily_vol(r)
    assert d.method == "ewma" and why in d.detail
    assert d.annual == pytest.approx(volatility.ewma_daily(r))


@pytest.mark.usefixtures("uncached")
def test_a_failing_fit_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(y: np.ndarray) -> GarchFit:
        raise FloatingPointError("overflow")

    monkeypatch.setattr(volatility, "fit_garch11", boom)
    d = garch_daily_vol(simulate_garch(300, 1e-5, 0.08, 0.82))
    assert d.method == "ewma" and d.detail == "fit failed: FloatingPointError: overflow"


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


def test_the_reason_names_the_ratio_the_beta_and_sigma() -> None:
    """The reason's fixed middle is formatted once per leg: the text is what one f-string of
    every part gives, thousands separator and per-fund override included."""
    u = k.universe()
    cfg = VolHedgeSettings(
        enabled=True,
        portfolio_beta_usd={"SPY": 1_234_567.0},
        overrides={"SH": {"base_ratio": 0.4}},
        daily_closes="",
    )
    sig = VolHedge(cfg, u, Sizer(SizingSettings()), {"SPY": DailyVol(0.2345, "garch")})
    t = k.at(11, 0)
    b = k.book(u, {"SPY": (269.99, 270.01), "SH": (24.99, 25.01)}, t)
    (i,) = sig.on_inav(k.event(u, t, {"SH": 25.0}), k.context(b, t))
    ratio = hedge_ratio(0.2345, cfg.for_symbol("SH"))
    assert i.reason == f"hedge {ratio:.2f} × {1_234_567.0:,.0f} USD SPY (σ {0.2345:.1%})"
    assert i.reason == "hedge 0.59 × 1,234,567 USD SPY (σ 23.4%)"
