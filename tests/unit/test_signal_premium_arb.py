"""Premium arbitrage inside the rebalance window: edge after costs, the benchmark hedge."""

from __future__ import annotations

import pytest
from tests.kit import strategy as k

from inavd.signals.config import PremiumArbSettings
from inavd.signals.premium_arb import PremiumArb
from inavd.sizing import Sizer, SizingSettings

# half spreads: SPY 0.02 / 540 = 0.370 bp, SDS 1 bp, SH 4 bp
QUOTES = {"SPY": (269.99, 270.01), "SDS": (49.995, 50.005), "SH": (24.99, 25.01)}


def step(
    cfg: PremiumArbSettings, t: int, prem: dict[str, float], pos: dict[str, float] | None = None
):  # type: ignore[no-untyped-def]
    u = k.universe()
    sig = PremiumArb(cfg, u, Sizer(SizingSettings()))
    b = k.book(u, QUOTES, t)
    return sig.on_inav(k.event(u, t, {"SDS": 50.0, "SH": 25.0}, prem), k.context(b, t, pos))


CFG = PremiumArbSettings(enabled=True, symbols=["SDS"], hedge=False)
HEDGED = CFG.model_copy(update={"hedge": True})


def test_round_trip_worked_numbers() -> None:
    u = k.universe()
    t = k.at(15, 35)
    sig = PremiumArb(HEDGED, u, Sizer(SizingSettings()))
    ctx = k.context(k.book(u, QUOTES, t), t)
    # SDS, a 200-share clip: 2 × (1 bp half spread + 0.5 bp slippage) + fees on the sell
    # (SEC 27.80/M × 10,000 = 0.278 USD, TAF 200 × 0.000166 = 0.0332 USD) = 0.3112 bp → 3.3112 bp
    # SPY, a 37-share clip: 2 × (0.3704 + 0.5) + 0.2839 bp of fees = 2.0249 bp, twice for −2x
    assert sig.round_trip(ctx, "SDS") == pytest.approx(3.3112 + 2 * 2.024889, abs=1e-4)
    unhedged = PremiumArb(CFG, u, Sizer(SizingSettings()))
    assert unhedged.round_trip(ctx, "SDS") == pytest.approx(3.3112, abs=1e-4)


def test_entry_needs_the_edge_to_beat_the_round_trip() -> None:
    # unhedged: edge = |p| − exit 0.5; 3 bp gives 2.5 < 3.31: refused; 4 bp gives 3.5: taken
    assert step(CFG, k.at(15, 35), {"SDS": -3.0}) == []
    (i,) = step(CFG, k.at(15, 35), {"SDS": -4.0})
    # Kelly on the 0.1888 bp left: 0.25 × 1.888e-5 / (2 × 50 bp)² = 4.72 % → 4,720 USD = 94 SDS
    assert (i.symbol, i.target_qty) == ("SDS", 94.0)
    assert "edge 3.5 bp > round trip 3.3 bp" in i.reason
    # hedged, the SPY leg adds 4.05 bp: 7.8 bp of premium (edge 7.3) is not enough, 8 bp is
    assert step(HEDGED, k.at(15, 35), {"SDS": -7.8}) == []
    assert [x.symbol for x in step(HEDGED, k.at(15, 35), {"SDS": -8.0})] == ["SDS", "SPY"]


def test_window_threshold_and_premium_side() -> None:
    (i,) = step(CFG, k.at(15, 35), {"SDS": 12.0})
    assert i.target_qty < 0  # a premium sells
    assert step(CFG, k.at(15, 0), {"SDS": -12.0}) == []  # before the window
    wide = CFG.model_copy(update={"threshold_bp": 15.0})
    assert step(wide, k.at(15, 35), {"SDS": -12.0}) == []  # under the threshold


def test_exit_when_closed_and_at_window_end() -> None:
    (i,) = step(CFG, k.at(15, 36), {"SDS": -0.4}, {"SDS": 200})
    assert i.target_qty == 0.0 and "closed" in i.reason
    assert step(CFG, k.at(15, 36), {"SDS": -1.0}, {"SDS": 200}) == []  # still open
    (j,) = step(CFG, k.at(15, 50, 15), {"SDS": -3.0}, {"SDS": 200})
    assert j.target_qty == 0.0 and "window" in j.reason


def test_hedge_leg_offsets_the_funds_benchmark_exposure() -> None:
    intents = step(HEDGED, k.at(15, 35), {"SDS": -12.0})
    (fund, hedge) = intents
    # 12 bp: edge 11.5 − 7.36 = 4.14 bp → Kelly 0.25 × 4.14e-4 / 1e-4 = 1.03 → the 10 % cap,
    # 10,000 USD = 200 SDS;
    # 200 × 50 × (−2) = −20,000 benchmark USD → buy 20,000 / 270 = 74 SPY
    assert (fund.symbol, fund.target_qty) == ("SDS", 200.0)
    assert (hedge.symbol, hedge.target_qty) == ("SPY", 74.0)


def test_hedged_by_default() -> None:
    assert PremiumArbSettings().hedge is True


def test_per_fund_override() -> None:
    cfg = PremiumArbSettings(
        enabled=True, hedge=False, overrides={"SDS": {"threshold_bp": 15.0}}
    )  # SH: half spread 4 bp, round trip 9.34 bp
    intents = step(cfg, k.at(15, 35), {"SDS": -12.0, "SH": -12.0})
    assert [i.symbol for i in intents] == ["SH"]
