"""Premium arbitrage inside the rebalance window, with an optional benchmark hedge."""

from __future__ import annotations

from tests.kit import strategy as k

from inavd.signals.config import PremiumArbSettings
from inavd.signals.premium_arb import PremiumArb
from inavd.sizing import Sizer, SizingSettings

QUOTES = {"SPY": (269.99, 270.01), "SDS": (49.995, 50.005), "SH": (24.99, 25.01)}


def step(
    cfg: PremiumArbSettings, t: int, prem: dict[str, float], pos: dict[str, float] | None = None
):  # type: ignore[no-untyped-def]
    u = k.universe()
    sig = PremiumArb(cfg, u, Sizer(SizingSettings()))
    b = k.book(u, QUOTES, t)
    return sig.on_inav(k.event(u, t, {"SDS": 50.0, "SH": 25.0}, prem), k.context(b, t, pos))


CFG = PremiumArbSettings(enabled=True, symbols=["SDS"])


def test_discount_in_the_window_buys() -> None:
    # SDS: half spread 1 bp; a 3 bp discount at 15:35 buys 10,000 USD = 200 shares
    (i,) = step(CFG, k.at(15, 35), {"SDS": -3.0})
    assert (i.symbol, i.target_qty) == ("SDS", 200.0)
    assert step(CFG, k.at(15, 0), {"SDS": -3.0}) == []  # before the window
    assert step(CFG, k.at(15, 35), {"SDS": -1.5}) == []  # under the 2 bp threshold


def test_premium_sells_and_half_spread_filter() -> None:
    (i,) = step(CFG, k.at(15, 35), {"SDS": 3.0})
    assert i.target_qty == -200.0
    wide = CFG.model_copy(update={"half_spread_mult": 4.0})  # needs 4 bp
    assert step(wide, k.at(15, 35), {"SDS": 3.0}) == []


def test_exit_when_closed_and_at_window_end() -> None:
    (i,) = step(CFG, k.at(15, 36), {"SDS": -0.4}, {"SDS": 200})
    assert i.target_qty == 0.0 and "closed" in i.reason
    assert step(CFG, k.at(15, 36), {"SDS": -1.0}, {"SDS": 200}) == []  # still open
    (j,) = step(CFG, k.at(15, 50, 15), {"SDS": -3.0}, {"SDS": 200})
    assert j.target_qty == 0.0 and "window" in j.reason


def test_hedge_leg_offsets_the_funds_benchmark_exposure() -> None:
    cfg = CFG.model_copy(update={"hedge": True})
    intents = step(cfg, k.at(15, 35), {"SDS": -3.0})
    # 200 SDS × 50 × (−2) = −20,000 benchmark USD → buy 20,000 / 270 = 74 SPY
    assert [(i.symbol, i.target_qty) for i in intents] == [("SDS", 200.0), ("SPY", 74.0)]


def test_per_fund_override() -> None:
    cfg = PremiumArbSettings(enabled=True, overrides={"SDS": {"threshold_bp": 5.0}})
    intents = step(cfg, k.at(15, 35), {"SDS": -3.0, "SH": -5.0})  # SH: half spread 4 bp
    assert [i.symbol for i in intents] == ["SH"]
