"""Every entry must beat its round trip; Kelly sees the fund's leverage; the vol target applies."""

from __future__ import annotations

import pytest
from tests.kit import strategy as k

from inavd.costs import CostModel, CostSettings
from inavd.settings import PremiumReversionSettings
from inavd.signals.config import MeanReversionSettings, MocFlowSettings, PremiumArbSettings
from inavd.signals.mean_reversion import MeanReversion
from inavd.signals.moc_flow import MocFlow
from inavd.signals.premium_arb import PremiumArb
from inavd.signals.premium_reversion import PremiumReversion
from inavd.sizing import Sizer, SizingSettings
from inavd.sizing.costs import VenueRoundTrip

# the default config's [costs]: 2019 fee rates and 0.5 bp of expected slippage per leg
COSTS = VenueRoundTrip(CostModel(CostSettings(slippage_bp=0.5)))


def sizer(**kw: float) -> Sizer:
    return Sizer(SizingSettings(**kw), COSTS)  # type: ignore[arg-type]


def test_round_trip_costs_worked_numbers() -> None:
    # 400 SH at 25: half spread 4 bp and 0.5 bp of slippage on each side = 9 bp, plus the sale's
    # SEC fee 20.70/M × 10,000 = 0.207 → 0.21 USD and TAF 400 × 0.000119 = 0.048 → 0.05 USD
    # (each billed in whole cents): 0.26 USD = 0.26 bp
    assert COSTS.round_trip_bp("SH", 25.0, 400, 4.0) == pytest.approx(9.26)
    # an exit in the closing auction crosses once: 4.5 bp + the same fees
    assert COSTS.round_trip_bp("SH", 25.0, 400, 4.0, close_exit=True) == pytest.approx(4.76)
    nan = COSTS.round_trip_bp("SH", 0.0, 400, 4.0)
    assert nan != nan


def premrev_step(quotes: dict[str, tuple[float, float]], prem: float):  # type: ignore[no-untyped-def]
    u = k.universe()
    t = k.at(11, 0)
    sig = PremiumReversion(PremiumReversionSettings(), ("SH",), sizer())
    b = k.book(u, quotes, t)
    return sig.on_inav(k.event(u, t, {"SH": 25.0}, {"SH": prem}), k.context(b, t))


def test_premium_reversion_entry_refused_below_the_round_trip() -> None:
    # SH quoted 24.99/25.01: round trip 9.26 bp; a −11 bp discount expects 11 − 2 = 9 bp back
    assert premrev_step({"SH": (24.99, 25.01)}, -11.0) == []
    (i,) = premrev_step({"SH": (24.99, 25.01)}, -11.5)  # 9.5 bp > 9.26 bp
    assert (i.symbol, i.target_qty) == ("SH", 400.0)
    assert "edge 9.5 bp > round trip 9.3 bp" in i.reason


def moc_entry(edge_bp: float) -> list:  # type: ignore[type-arg]
    u = k.universe()
    t = k.at(15, 40)
    cfg = MocFlowSettings(enabled=True, closing_volume_usd={"SPY": 1e9}, edge_bp=edge_bp)
    sig = MocFlow(cfg, u, sizer())
    b = k.book(u, {"SPY": (239.84, 239.86)}, t)
    return sig.on_inav(k.event(u, t, {}, flow_by_benchmark={"SPY": -60e6}), k.context(b, t))


def test_moc_flow_entry_needs_its_edge_above_a_one_crossing_round_trip() -> None:
    # SPY 239.84/239.86: half spread 0.417 bp + 0.5 bp slippage on the way in, the auction exit
    # pays fees only (0.21 + 0.01 USD on 41 shares = 0.224 bp): 0.932 bp
    assert moc_entry(0.9) == []
    (i,) = moc_entry(1.5)
    # Kelly on the 0.568 bp left: 0.25 × 5.68e-5 / (50 bp)² = 56.8 % → capped at 10,000 USD
    assert i.target_qty == -41.0


def meanrev_last(fund_quote: tuple[float, float]) -> list:  # type: ignore[type-arg]
    cfg = MeanReversionSettings(
        enabled=True, sample_s=60, rsi_period=3, bb_period=4, bb_k=1.5, symbols=["SPY"]
    )
    u = k.universe()
    sig = MeanReversion(cfg, u, sizer())
    out: list = []  # type: ignore[type-arg]
    for n, p in enumerate([100.0, 100.01, 100.02, 100.03, 100.09]):
        t = k.at(11, 0) + n * 60_000_000_000
        b = k.book(u, {"SPY": (p - 0.005, p + 0.005), "SH": fund_quote}, t, warm=1)
        out = sig.on_inav(k.event(u, t, {"SH": 25.0}), k.context(b, t))
    return out


def test_mean_reversion_edge_is_the_way_back_to_the_mean() -> None:
    # 100.09 is above the upper band 100.084 of (100.01 … 100.09); the way back to the mean
    # 100.0375 is 5.25 bp of SH: below SH's 9.26 bp round trip at a 2-cent spread, above its
    # 2.06 bp round trip at 0.2 cents
    assert meanrev_last((24.99, 25.01)) == []
    (i,) = meanrev_last((24.999, 25.001))
    assert i.symbol == "SH" and "edge 5.2 bp > round trip 2.1 bp" in i.reason


def test_kelly_variance_scales_with_the_square_of_leverage() -> None:
    s = Sizer(SizingSettings())
    # 1.5 bp edge, 200 bp benchmark stdev: 1x bets 0.25 × 1.5e-4 / 4e-4 = 9.375 % = 9,375 USD
    assert s.shares("SSO", 50.0, 1.5, 200.0, leverage=1.0) == 187.0
    # a 3x fund's variance is 9 × larger: 1.042 % = 1,041.67 USD → 20 shares at 50
    assert s.shares("SSO", 50.0, 1.5, 200.0, leverage=3.0) == 20.0
    assert s.shares("SSO", 50.0, 1.5, 200.0, leverage=-3.0) == 20.0  # inverse: same risk


def test_the_cap_bounds_benchmark_exposure() -> None:
    s = Sizer(SizingSettings())
    # 5 bp on 50 bp: Kelly 0.25 × 5e-4 / 2.5e-5 = 5 → the 10 % cap: 10,000 USD of a 1x fund,
    # but 10 % / 3 of a 3x fund: 3,333 USD, the same 10,000 USD of benchmark exposure
    assert s.shares("SPY", 100.0, 5.0, 50.0) == 100.0
    assert s.shares("UPRO", 50.0, 5.0, 50.0, leverage=3.0) == 66.0


def test_vol_target_uses_the_funds_volatility() -> None:
    s = Sizer(SizingSettings(vol_target=0.16))
    # capped Kelly 10,000 USD; benchmark at 8 %: a 1x position is at 2 × target (multiplier 2 cap)
    assert s.shares("SPY", 100.0, 5.0, 50.0, realised_vol=0.08) == 200.0
    # a −3x fund on the same benchmark runs at 24 %: its capped 3,333 USD × 0.16 / 0.24 = 2,222 USD
    # → 44 shares at 50
    assert s.shares("SPXU", 50.0, 5.0, 50.0, realised_vol=0.08, leverage=-3.0) == 44.0


def test_premium_arb_sizes_with_its_realised_volatility() -> None:
    u = k.universe()
    cfg = PremiumArbSettings(enabled=True, symbols=["SDS"], hedge=False)
    sig = PremiumArb(cfg, u, sizer(vol_target=0.16))
    t0 = k.at(15, 30)
    out: list = []  # type: ignore[type-arg]
    # SPY alternates 270 / 270.054 every 15 s: r² / dt = ln(1.0002)² / 15 per second, 12.54 %
    # a year; SDS (−2x) runs at 25.08 %, so the multiplier is 0.16 / 0.2508 = 0.638
    for n in range(22):
        t = t0 + n * 15_000_000_000
        spy = 270.054 if n % 2 else 270.0
        quotes = {"SPY": (spy - 0.01, spy + 0.01), "SDS": (49.995, 50.005)}
        b = k.book(u, quotes, t, warm=1)
        prem = -12.0 if n == 21 else 0.0
        out = sig.on_inav(k.event(u, t, {"SDS": 50.0}, {"SDS": prem}), k.context(b, t))
    assert sig.vol["SPY"].annual == pytest.approx(0.12539, abs=1e-4)
    # Kelly capped at 10 % / 2 = 5,000 USD of SDS × 0.638 = 3,190 USD → 63 SDS (without: 100)
    (i,) = out
    assert i.target_qty == 63.0
