"""What a round trip costs, in bp of the traded notional: the bar every entry's edge must clear.

A round trip bought and sold with marketable orders pays the half spread on each side (the edge of
the signals is measured from the mid), the expected slippage beyond the quote on each side, and
the regulatory fees on the sell: SEC section 31 on the sold notional and FINRA's trading
activity fee (TAF) per sold share. An exit in the closing auction pays no spread and no slippage
(it trades at the official close), only the fees.

`CostModel` is the small interface the signals depend on; `RoundTripCosts` is the estimate from
`[sizing]` (fee rates as published: SEC 27.80 USD per million sold since 2024-05-22, TAF
0.000166 USD per share capped at 8.30 USD per trade).
"""

from __future__ import annotations

import math
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class CostSettings(BaseModel):
    """`[sizing.costs]`: the round-trip estimate's inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slippage_bp: float = Field(0.5, ge=0)  # expected fill beyond the touch, per marketable side
    sec_fee_per_million_usd: float = Field(27.80, ge=0)  # SEC section 31, on sells
    taf_per_share_usd: float = Field(0.000166, ge=0)  # FINRA TAF, on sells
    taf_max_usd: float = Field(8.30, ge=0)  # TAF cap per trade
    commission_per_share_usd: float = Field(0.0, ge=0)  # per side


class CostModel(Protocol):
    def round_trip_bp(
        self, price: float, qty: float, half_spread_bp: float, close_exit: bool = False
    ) -> float:
        """Cost of buying and selling `qty` at `price` (bp of qty·price); nan without a price."""
        ...


class RoundTripCosts:
    def __init__(self, cfg: CostSettings | None = None) -> None:
        self.cfg = cfg or CostSettings()

    def fees_usd(self, price: float, qty: float) -> float:
        """Fees of one round trip of `qty` shares: SEC and TAF on the sell, commission on both."""
        c = self.cfg
        sec = price * qty * c.sec_fee_per_million_usd * 1e-6
        taf = min(qty * c.taf_per_share_usd, c.taf_max_usd)
        return sec + taf + 2.0 * qty * c.commission_per_share_usd

    def round_trip_bp(
        self, price: float, qty: float, half_spread_bp: float, close_exit: bool = False
    ) -> float:
        if not (price > 0 and qty > 0 and math.isfinite(half_spread_bp)):
            return math.nan
        sides = 1.0 if close_exit else 2.0
        crossing = sides * (half_spread_bp + self.cfg.slippage_bp)
        return crossing + self.fees_usd(price, qty) / (price * qty) * 1e4
