"""What a round trip costs, in bp of the traded notional: the bar every entry's edge must clear.

A round trip bought and sold with marketable orders pays the half spread on each side (the edge of
the signals is measured from the mid), the expected slippage beyond the quote on each side, and
the fees of both legs (SEC section 31 and FINRA TAF on the sale, commission if any). An exit in the
closing auction pays no spread and no slippage (it trades at the official close), only the fees.

`RoundTrip` is the small interface the signals depend on; `VenueRoundTrip` prices it with the
venue's own fee schedule (`inavd.costs.CostModel`, the `[costs]` section), so the estimate the
signals compare their edge with and the fees the paper venue charges come from the same rates.
"""

from __future__ import annotations

import math
from typing import Protocol

from inavd.costs import CostModel


class RoundTrip(Protocol):
    def round_trip_bp(
        self, symbol: str, price: float, qty: float, half_spread_bp: float, close_exit: bool = False
    ) -> float:
        """Cost of buying and selling `qty` at `price` (bp of qty·price); nan without a price.
        A function of its arguments alone: the sizer keeps the last value of each touch."""
        ...


class VenueRoundTrip:
    def __init__(self, model: CostModel | None = None) -> None:
        self.model = model or CostModel()

    def round_trip_bp(
        self, symbol: str, price: float, qty: float, half_spread_bp: float, close_exit: bool = False
    ) -> float:
        if not (price > 0 and qty > 0 and math.isfinite(half_spread_bp)):
            return math.nan
        spread_usd = 2.0 * half_spread_bp * 1e-4 * price
        bp = self.model.round_trip_bp(symbol, qty, price, spread_usd)
        if close_exit:  # the auction leg crosses no spread and slips nothing
            bp -= half_spread_bp + self.model.s.slippage_bp
        return bp
