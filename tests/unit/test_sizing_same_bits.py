"""The sizer's round trip at a touch, kept per symbol, and its sizing give the floats of the
functions they stand for.

`Sizer.touch_round_trip_bp` asks the estimate (`Sizer.round_trip_bp` → the round trip's
`round_trip_bp`) at the touch's mid and half spread and keeps each symbol's last value;
`Sizer.shares` is `notional` (`kelly_fraction`, `vol_multiplier`) and `to_shares`. Entries
compare these numbers with edges and size on them, and cached decisions compare their inputs
exactly: every value must be the same to the bit.
"""

from __future__ import annotations

import math
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from inavd.costs import CostModel, CostSettings
from inavd.sizing import Sizer, SizingSettings, kelly_fraction, to_shares, vol_multiplier
from inavd.sizing.costs import VenueRoundTrip

COSTS = (
    CostSettings(),
    CostSettings(slippage_bp=0.5),
    CostSettings(slippage_bp=1.5, commission_per_share_usd=0.005, commission_min_usd=1.0),
    CostSettings(commission_min_usd=0.35, taf_max_usd=0.5),
)


def same_bits(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b)


def chain(sizer: Sizer, symbol: str, bid: float, ask: float, close_exit: bool) -> float:
    """The estimate through the venue's call chain, as the signals asked for it before."""
    mid, half = (bid + ask) * 0.5, (ask - bid) / (ask + bid) * 1e4
    return sizer.round_trip_bp(symbol, mid, half, close_exit)


@settings(max_examples=300)
@given(
    costs=st.sampled_from(COSTS),
    capital=st.sampled_from([1_000.0, 100_000.0, 2.5e6]),
    mid=st.floats(0.01, 5_000, allow_nan=False),
    spread=st.floats(0.0, 0.5, allow_nan=False),
    close_exit=st.booleans(),
)
def test_the_kept_round_trip_is_the_chains_to_the_bit(
    costs: CostSettings, capital: float, mid: float, spread: float, close_exit: bool
) -> None:
    sizer = Sizer(SizingSettings(capital_usd=capital), VenueRoundTrip(CostModel(costs)))
    bid, ask = mid - spread * mid * 0.01, mid + spread * mid * 0.01
    want = chain(sizer, "SH", bid, ask, close_exit)
    assert same_bits(sizer.touch_round_trip_bp("SH", bid, ask, close_exit), want)
    assert same_bits(sizer.touch_round_trip_bp("SH", bid, ask, close_exit), want)  # kept


def test_no_price_no_round_trip() -> None:
    sizer = Sizer(SizingSettings())
    for bid, ask in ((math.nan, math.nan), (-1.0, -0.5), (-0.02, 0.01), (math.nan, 25.0)):
        assert math.isnan(sizer.touch_round_trip_bp("SH", bid, ask))
        assert math.isnan(sizer.touch_round_trip_bp("SH", bid, ask))  # a nan is not a hit


def test_the_kept_value_follows_the_touch_and_the_exit() -> None:
    sizer = Sizer(SizingSettings(), VenueRoundTrip(CostModel(CostSettings(slippage_bp=0.5))))
    touches = [(24.99, 25.01), (24.98, 25.01), (24.99, 25.01), (49.99, 50.02), (24.99, 25.01)]
    for bid, ask in touches:
        for close_exit in (False, True, False):
            got = sizer.touch_round_trip_bp("SH", bid, ask, close_exit)
            assert same_bits(got, chain(sizer, "SH", bid, ask, close_exit))
    # one symbol's touch is not another's
    a = sizer.touch_round_trip_bp("SH", 24.99, 25.01)
    b = sizer.touch_round_trip_bp("SDS", 24.98, 25.02)
    assert same_bits(a, chain(sizer, "SH", 24.99, 25.01, False))
    assert same_bits(b, chain(sizer, "SDS", 24.98, 25.02, False))


class _Wider:
    """A round trip priced differently (a `RoundTrip` of its own: the venue's class may be
    compiled, and a compiled class takes no interpreted subclass): asked once per touch, like the
    venue's."""

    def __init__(self) -> None:
        self.venue = VenueRoundTrip()
        self.asked = 0

    def round_trip_bp(
        self, symbol: str, price: float, qty: float, half_spread_bp: float, close_exit: bool = False
    ) -> float:
        self.asked += 1
        return 2.0 * self.venue.round_trip_bp(symbol, price, qty, half_spread_bp, close_exit)


def test_another_round_trip_is_asked_once_per_touch() -> None:
    costs = _Wider()
    sizer = Sizer(SizingSettings(), costs)
    want = chain(sizer, "SH", 24.99, 25.01, False)
    assert same_bits(sizer.touch_round_trip_bp("SH", 24.99, 25.01), want)
    assert same_bits(sizer.touch_round_trip_bp("SH", 24.99, 25.01), want)
    assert costs.asked == 2  # the chain's, then the touch's first: the second is kept
    sizer.touch_round_trip_bp("SH", 24.98, 25.01)
    assert costs.asked == 3


def composed(
    sizer: Sizer,
    symbol: str,
    price: float,
    edge_bp: float,
    stdev_bp: float,
    realised_vol: float | None,
    leverage: float,
) -> float:
    """`Sizer.shares` as the composition of the public functions."""
    c, lev = sizer.cfg, abs(leverage) or 1.0
    sd = stdev_bp * 1e-4 * lev
    vol = None if realised_vol is None else realised_vol * lev
    cap, floor = c.cap_fraction / lev, c.floor_fraction / lev
    f = kelly_fraction(edge_bp * 1e-4, sd * sd, c.kelly_fraction, cap, floor)
    notional = c.capital_usd * f * vol_multiplier(vol, c.vol_target, c.max_vol_multiplier)
    frac = symbol in c.fractional_symbols
    return to_shares(notional, price, frac, c.min_order_notional_usd)


@settings(max_examples=400)
@given(
    vol_target=st.sampled_from([0.0, 0.16]),
    symbol=st.sampled_from(["SH", "SPY"]),
    price=st.one_of(st.floats(0.01, 5_000), st.just(0.0), st.just(math.nan)),
    edge_bp=st.one_of(st.floats(-20, 200), st.just(math.nan)),
    stdev_bp=st.floats(0.0, 500),
    realised_vol=st.one_of(st.none(), st.floats(0.0, 3.0), st.just(math.nan)),
    leverage=st.sampled_from([1.0, -1.0, 2.0, -3.0, 0.0]),
)
def test_shares_are_the_composed_functions_to_the_bit(
    vol_target: float,
    symbol: str,
    price: float,
    edge_bp: float,
    stdev_bp: float,
    realised_vol: float | None,
    leverage: float,
) -> None:
    sizer = Sizer(SizingSettings(vol_target=vol_target, fractional_symbols=["SPY"]))
    args = (symbol, price, edge_bp, stdev_bp, realised_vol, leverage)
    assert same_bits(sizer.shares(*args), composed(sizer, *args))
