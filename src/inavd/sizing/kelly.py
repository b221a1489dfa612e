"""Sizing: fractional Kelly with a cap and a floor, a volatility-target multiplier, whole shares.

Kelly for a small edge μ with return variance σ²: f* = μ / σ² of capital. We bet `kelly_fraction`
of it (estimates of μ are noisy; full Kelly on a wrong μ is ruinous), clamp it to
[floor_fraction, cap_fraction], scale by `vol_target / realised_vol` (capped), and round down to
whole shares; an order below `min_order_notional_usd` is not worth its costs and becomes zero.

A fund of daily leverage L moves L times its benchmark, so a signal's per-trade standard deviation
and realised volatility (both stated for the benchmark) are scaled by |L| before they are used:
Kelly's variance by L² and the volatility the multiplier sees by |L|. The cap and the floor bound
the benchmark exposure (notional · |L|, the dollars the risk gates count), so a 3x fund's clip is a
third of a 1x fund's. The edge that is sized is the edge after the estimated round-trip costs
(`inavd.sizing.costs`).
"""

from __future__ import annotations

import math

from inavd.domain.plain import plain
from inavd.sizing.config import SizingSettings
from inavd.sizing.costs import RoundTrip, VenueRoundTrip


def kelly_fraction(
    edge: float, variance: float, fraction: float, cap: float, floor: float
) -> float:
    """Capital fraction for a per-trade `edge` (return) and `variance` (return²); 0 if no edge."""
    if not (edge > 0 and variance > 0) or not math.isfinite(edge / variance):
        return 0.0
    return min(max(fraction * edge / variance, floor), cap)


def vol_multiplier(realised_vol: float | None, target_vol: float, max_mult: float) -> float:
    """target / realised, capped; 1 when there is no target or no estimate."""
    if target_vol <= 0 or realised_vol is None or not realised_vol > 0:
        return 1.0
    return min(target_vol / realised_vol, max_mult)


def to_shares(
    notional_usd: float, price: float, fractional: bool, min_notional_usd: float
) -> float:
    """Shares for a notional: whole shares unless fractional; 0 below the minimum order notional."""
    if not (price > 0 and notional_usd > 0) or not math.isfinite(notional_usd / price):
        return 0.0
    raw = notional_usd / price
    qty = math.floor(raw * 1e6) / 1e6 if fractional else float(math.floor(raw + 1e-9))
    if qty * price < min_notional_usd:
        return 0.0
    return qty


class Sizer:
    """One per app: the sizing every signal shares."""

    def __init__(self, cfg: SizingSettings, costs: RoundTrip | None = None) -> None:
        self.cfg = cfg
        self._c = plain(cfg)  # the fields read for every entry sized (`inavd.domain.plain`)
        self.costs: RoundTrip = costs or VenueRoundTrip()
        self._fractional = frozenset(cfg.fractional_symbols)
        self._clip_usd = cfg.capital_usd * cfg.cap_fraction  # the capped clip a round trip prices
        # symbol → (bid, ask, bp) of the last round trip priced (one dict per exit kind): the
        # estimate is a function of the touch alone, and several funds share a benchmark leg
        self._last_rt: dict[str, tuple[float, float, float]] = {}
        self._last_rt_close: dict[str, tuple[float, float, float]] = {}

    def touch_round_trip_bp(
        self, symbol: str, bid: float, ask: float, close_exit: bool = False
    ) -> float:
        """`round_trip_bp` at a touch: the mid and half spread (bp of the mid) of (bid, ask). The
        last value of each symbol is kept while its touch is unchanged: the estimate is a function
        of the touch alone, several funds share a benchmark leg, and an unchanged quote is asked
        again at every step."""
        memo = self._last_rt_close if close_exit else self._last_rt
        last = memo.get(symbol)
        if last is not None and last[0] == bid and last[1] == ask:  # a nan touch never is
            return last[2]
        mid, half = (bid + ask) * 0.5, (ask - bid) / (ask + bid) * 1e4
        bp = self.round_trip_bp(symbol, mid, half, close_exit)
        memo[symbol] = (bid, ask, bp)
        return bp

    def round_trip_bp(
        self, symbol: str, price: float, half_spread_bp: float, close_exit: bool = False
    ) -> float:
        """Estimated round trip of one capped clip of `symbol` at `price` (bp); nan without one."""
        if not price > 0:
            return math.nan
        qty = max(math.floor(self._clip_usd / price), 1.0)
        return self.costs.round_trip_bp(symbol, price, qty, half_spread_bp, close_exit)

    def notional(
        self,
        edge: float,
        variance: float,
        realised_vol: float | None = None,
        leverage: float = 1.0,
    ) -> float:
        """Notional for a return `edge` and `variance` of the traded instrument; the cap and floor
        are on its benchmark exposure, so they shrink by |leverage|."""
        c, lev = self._c, abs(leverage) or 1.0
        cap, floor = c.cap_fraction / lev, c.floor_fraction / lev
        f = kelly_fraction(edge, variance, c.kelly_fraction, cap, floor)
        return c.capital_usd * f * vol_multiplier(realised_vol, c.vol_target, c.max_vol_multiplier)

    def shares(
        self,
        symbol: str,
        price: float,
        edge_bp: float,
        stdev_bp: float,
        realised_vol: float | None = None,
        leverage: float = 1.0,
    ) -> float:
        """Unsigned shares for a trade with the given net edge (bp of the fund's notional) and the
        benchmark's per-trade standard deviation (bp) and realised volatility, in a fund of
        daily leverage `leverage` (1 for the benchmark itself)."""
        lev = abs(leverage) or 1.0
        sd = stdev_bp * 1e-4 * lev
        vol = None if realised_vol is None else realised_vol * lev
        notional = self.notional(edge_bp * 1e-4, sd * sd, vol, lev)
        return to_shares(
            notional, price, symbol in self._fractional, self._c.min_order_notional_usd
        )

    def shares_for_notional(self, symbol: str, price: float, notional_usd: float) -> float:
        return to_shares(
            notional_usd, price, symbol in self._fractional, self._c.min_order_notional_usd
        )
