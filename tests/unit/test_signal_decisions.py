"""Signals re-decide only when the numbers that decide them change: an entry or a hedge target on
unchanged numbers is the same (immutable) intent, and a moved quote, premium, volatility or
holding gives the decision a fresh look."""

from __future__ import annotations

from tests.kit import strategy as k

from inavd.costs import CostModel, CostSettings
from inavd.domain.intents import Intent
from inavd.settings import PremiumReversionSettings
from inavd.signals.config import PremiumArbSettings, VolHedgeSettings
from inavd.signals.premium_arb import PremiumArb
from inavd.signals.premium_reversion import PremiumReversion
from inavd.signals.vol_hedge import VolHedge
from inavd.sizing import Sizer, SizingSettings
from inavd.sizing.costs import VenueRoundTrip

QUOTES = {"SPY": (269.99, 270.01), "SDS": (49.995, 50.005), "SH": (24.99, 25.01)}
T = k.at(15, 35)


def sizer() -> Sizer:
    return Sizer(SizingSettings(), VenueRoundTrip(CostModel(CostSettings(slippage_bp=0.5))))


def test_premium_arbitrage_entry_is_the_same_intent_until_a_leg_moves() -> None:
    u = k.universe()
    sig = PremiumArb(PremiumArbSettings(enabled=True, symbols=["SDS"]), u, sizer())
    b = k.book(u, QUOTES, T)
    ev = k.event(u, T, {"SDS": 50.0}, {"SDS": -12.0})
    (first,) = [i for i in sig.on_inav(ev, k.context(b, T)) if i.symbol == "SDS"]
    (again,) = [i for i in sig.on_inav(ev, k.context(b, T)) if i.symbol == "SDS"]
    assert again is first
    # the hedge leg's quote widens: the round trip (and so the edge and reason) is re-worked
    b.apply(k.quote_batch(b, {"SPY": (269.98, 270.02)}, T))
    (moved,) = [i for i in sig.on_inav(ev, k.context(b, T)) if i.symbol == "SDS"]
    assert moved is not first and moved.reason != first.reason
    # a premium that no longer beats the round trip enters nothing
    small = k.event(u, T, {"SDS": 50.0}, {"SDS": -4.0})
    assert [i for i in sig.on_inav(small, k.context(b, T)) if i.symbol == "SDS"] == []


def test_premium_reversion_entry_is_re_decided_when_the_fund_quote_moves() -> None:
    u = k.universe()
    cfg = PremiumReversionSettings(enabled=True, symbols=["SH"], entry_bp=5, exit_bp=1)
    sig = PremiumReversion(cfg, tuple(f.symbol for f in u.funds), sizer())
    b = k.book(u, QUOTES, T)
    ev = k.event(u, T, {"SH": 25.0}, {"SH": -12.0})
    (first,) = sig.on_inav(ev, k.context(b, T))
    (again,) = sig.on_inav(ev, k.context(b, T))
    assert again is first
    # a spread beyond max_spread_bp: the same discount no longer enters
    b.apply(k.quote_batch(b, {"SH": (24.90, 25.10)}, T))
    assert sig.on_inav(ev, k.context(b, T)) == []
    b.apply(k.quote_batch(b, {"SH": (24.99, 25.01)}, T))
    (back,) = sig.on_inav(ev, k.context(b, T))
    assert back == first


def test_vol_hedge_target_follows_the_holding_and_the_price() -> None:
    u = k.universe()
    cfg = VolHedgeSettings(enabled=True, portfolio_beta_usd={"SPY": 50_000}, daily_closes="")
    sig = VolHedge(cfg, u, sizer())
    b = k.book(u, QUOTES, T)
    ev = k.event(u, T, {"SH": 25.0})
    (first,) = sig.on_inav(ev, k.context(b, T))
    assert first.symbol == "SH" and first.target_qty == 1000.0  # 0.5 × 50,000 / 25
    (again,) = sig.on_inav(ev, k.context(b, T))
    assert again is first
    # held at the target: nothing to do; the same numbers again: still nothing
    assert sig.on_inav(ev, k.context(b, T, {"SH": 1000.0})) == []
    assert sig.on_inav(ev, k.context(b, T, {"SH": 1000.0})) == []
    # the fund's price halves: the target doubles
    b.apply(k.quote_batch(b, {"SH": (12.49, 12.51)}, T))
    (moved,) = sig.on_inav(ev, k.context(b, T, {"SH": 1000.0}))
    assert moved.target_qty == 2000.0


def test_an_intent_is_immutable() -> None:
    i = Intent("premarb", "SDS", 10.0, "r")
    try:
        i.target_qty = 20.0  # type: ignore[misc]
    except AttributeError:
        return
    raise AssertionError("an intent handed out twice must not be changeable")
