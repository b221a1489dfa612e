"""Premium arbitrage inside the rebalance window: edge after costs, the benchmark hedge."""

from __future__ import annotations

import pytest
from tests.kit import strategy as k

from inavd.costs import CostModel, CostSettings
from inavd.signals.config import PremiumArbSettings
from inavd.signals.premium_arb import PremiumArb
from inavd.sizing import Sizer, SizingSettings
from inavd.sizing.costs import VenueRoundTrip

# half spreads: SPY 0.02 / 540 = 0.370 bp, SDS 1 bp, SH 4 bp


def sizer() -> Sizer:
    # the default config's [costs]: 2019 fee rates, 0.5 bp of expected slippage per leg
    return Sizer(SizingSettings(), VenueRoundTrip(CostModel(CostSettings(slippage_bp=0.5))))


QUOTES = {"SPY": (269.99, 270.01), "SDS": (49.995, 50.005), "SH": (24.99, 25.01)}


def step(
    cfg: PremiumArbSettings,
    t: int,
    prem: dict[str, float],
    pos: dict[str, float] | None = None,
    can_short: bool = True,
):  # type: ignore[no-untyped-def]
    u = k.universe()
    sig = PremiumArb(cfg, u, sizer(), lambda _: can_short)
    b = k.book(u, QUOTES, t)
    return sig.on_inav(k.event(u, t, {"SDS": 50.0, "SH": 25.0}, prem), k.context(b, t, pos))


CFG = PremiumArbSettings(enabled=True, symbols=["SDS"], hedge=False)
HEDGED = CFG.model_copy(update={"hedge": True})


def test_round_trip_worked_numbers() -> None:
    u = k.universe()
    t = k.at(15, 35)
    sig = PremiumArb(HEDGED, u, sizer())
    ctx = k.context(k.book(u, QUOTES, t), t)
    # SDS, a 200-share clip: 2 × (1 bp half spread + 0.5 bp slippage) + fees on the sale
    # (SEC 20.70/M × 10,000 = 0.207 → 0.21 USD, TAF 200 × 0.000119 → 0.03 USD) = 0.24 bp → 3.24 bp
    # SPY, a 37-share clip: 2 × (0.3704 + 0.5) + 0.22 USD / 9,990 USD = 1.9610 bp, twice for −2x
    assert sig.round_trip(ctx, "SDS") == pytest.approx(3.24 + 2 * 1.960961, abs=1e-4)
    unhedged = PremiumArb(CFG, u, sizer())
    assert unhedged.round_trip(ctx, "SDS") == pytest.approx(3.24, abs=1e-4)


def test_entry_needs_the_edge_to_beat_the_round_trip() -> None:
    # unhedged: edge = |p| − exit 0.5; 3 bp gives 2.5 < 3.24: refused; 3.7 bp gives 3.2 < 3.24:
    # refused; 3.8 bp gives 3.3: taken
    assert step(CFG, k.at(15, 35), {"SDS": -3.0}) == []
    assert step(CFG, k.at(15, 35), {"SDS": -3.7}) == []
    (i,) = step(CFG, k.at(15, 35), {"SDS": -3.8})
    # Kelly on the 0.06 bp left: 0.25 × 6e-6 / (2 × 50 bp)² = 1.5 % → 1,500 USD = 30 SDS
    assert (i.symbol, i.target_qty) == ("SDS", 30.0)
    assert "edge 3.3 bp > round trip 3.2 bp" in i.reason
    # hedged, the SPY leg adds 3.92 bp: 7.6 bp of premium (edge 7.1) is not enough, 7.8 bp is
    assert step(HEDGED, k.at(15, 35), {"SDS": -7.6}) == []
    assert [x.symbol for x in step(HEDGED, k.at(15, 35), {"SDS": -7.8})] == ["SDS"]


def test_window_threshold_and_premium_side() -> None:
    (i,) = step(CFG, k.at(15, 35), {"SDS": 12.0})
    assert i.target_qty < 0  # a premium sells
    assert step(CFG, k.at(15, 35), {"SDS": 12.0}, can_short=False) == []  # unless it may not
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
    (fund,) = step(HEDGED, k.at(15, 35), {"SDS": -12.0})
    # 12 bp: edge 11.5 − 7.16 = 4.34 bp → Kelly 0.25 × 4.34e-4 / 1e-4 = 1.08 → the cap of 10 % of
    # benchmark exposure, 5 % in a −2x fund: 5,000 USD = 100 SDS
    assert (fund.symbol, fund.target_qty) == ("SDS", 100.0)
    # once the 100 SDS are held (or working): 100 × 50 × (−2) = −10,000 benchmark USD → buy
    # 10,000 / 270 = 37 SPY; held, nothing more; 34 SPY is within the 10 % band, 30 is not
    (hedge,) = step(HEDGED, k.at(15, 35, 15), {"SDS": -12.0}, {"SDS": 100})
    assert (hedge.symbol, hedge.target_qty) == ("SPY", 37.0)
    assert step(HEDGED, k.at(15, 35, 30), {"SDS": -12.0}, {"SDS": 100, "SPY": 37}) == []
    assert step(HEDGED, k.at(15, 35, 30), {"SDS": -12.0}, {"SDS": 100, "SPY": 34}) == []
    (again,) = step(HEDGED, k.at(15, 35, 30), {"SDS": -12.0}, {"SDS": 100, "SPY": 30})
    assert again.target_qty == 37.0
    # the fund leg closed: the hedge goes too
    (close, unhedge) = step(HEDGED, k.at(15, 36), {"SDS": -0.2}, {"SDS": 100, "SPY": 37})
    assert (close.symbol, close.target_qty, unhedge.symbol, unhedge.target_qty) == (
        "SDS", 0.0, "SPY", 0.0
    )


def test_hedged_by_default() -> None:
    assert PremiumArbSettings().hedge is True


def test_per_fund_override() -> None:
    cfg = PremiumArbSettings(
        enabled=True, hedge=False, overrides={"SDS": {"threshold_bp": 15.0}}
    )  # SH: half spread 4 bp, round trip 9.26 bp
    intents = step(cfg, k.at(15, 35), {"SDS": -12.0, "SH": -12.0})
    assert [i.symbol for i in intents] == ["SH"]
