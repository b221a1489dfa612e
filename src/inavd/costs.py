"""Trading costs: regulatory fees, commission and borrow, per fill and as a round-trip estimate.

The fees are the ones a US retail broker passes through on every sale:

- SEC section 31 fee: a rate per million USD of sale proceeds. The default, 20.70 USD per million,
  is the rate the fiscal-year-2019 fee order put in force from May 2019 to February 2020 (the
  bundled session is 2019-12-19); set the rate in force for the days you trade.
- FINRA Trading Activity Fee (TAF): a rate per share sold, capped per trade (0.000119 USD per share,
  at most 5.95 USD, By-Laws Schedule A, 2016–2021).
- Commission: optional, per share with a minimum per fill (0 by default, as at Alpaca).
- Borrow: shorts pay an annual rate on their market value, charged per day held over a close
  (actual/360). Intraday shorts pay none, as at a broker that charges on positions held overnight.

`round_trip_usd` is the estimate signals compare their expected edge with: half the spread paid on
the way in and again on the way out, the fees of both legs, and slippage.
"""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
import math

from pydantic import BaseModel, ConfigDict, Field

from inavd.domain.orders import Side


class CostSettings(BaseModel):
    """The `[costs]` config section (paper venue fills, signals' round-trip estimates)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sec_fee_per_million_usd: float = Field(20.70, ge=0)
    taf_per_share_usd: float = Field(0.000119, ge=0)
    taf_max_usd: float = Field(5.95, ge=0)
    commission_per_share_usd: float = Field(0.0, ge=0)
    commission_min_usd: float = Field(0.0, ge=0)
    borrow_rate: float = Field(0.0, ge=0, le=5)  # annual, on short market value; default for all
    borrow_rate_by_symbol: dict[str, float] = Field(default_factory=dict)
    slippage_bp: float = Field(0.0, ge=0)  # expected slippage per leg beyond the touch

    def borrow_rate_of(self, symbol: str) -> float:
        return self.borrow_rate_by_symbol.get(symbol, self.borrow_rate)


class CostModel:
    def __init__(self, settings: CostSettings | None = None) -> None:
        self.s = s = settings or CostSettings()
        # the rates `round_trip_usd` reads, as one tuple of floats (the settings are frozen):
        # signals ask for a round trip on every entry they consider, and a read of a settings
        # field costs more than the arithmetic it feeds
        self._round_trip_rates = (
            s.slippage_bp,
            s.commission_per_share_usd,
            s.commission_min_usd,
            s.sec_fee_per_million_usd,
            s.taf_per_share_usd,
            s.taf_max_usd,
        )

    def sec_fee(self, side: Side, qty: float, price: float) -> float:
        if side is Side.BUY:
            return 0.0
        return qty * price * self.s.sec_fee_per_million_usd / 1e6

    def taf(self, side: Side, qty: float) -> float:
        if side is Side.BUY:
            return 0.0
        return min(qty * self.s.taf_per_share_usd, self.s.taf_max_usd)

    def commission(self, qty: float) -> float:
        if self.s.commission_per_share_usd <= 0 and self.s.commission_min_usd <= 0:
            return 0.0
        return max(qty * self.s.commission_per_share_usd, self.s.commission_min_usd)

    def fill_fees(self, side: Side, qty: float, price: float) -> float:
        """Everything one execution costs on top of its price, in USD (rounded to the cent)."""
        # each regulatory fee is billed in whole cents, rounded up, as brokers pass them through
        sec = _cents_up(self.sec_fee(side, qty, price))
        return sec + _cents_up(self.taf(side, qty)) + self.commission(qty)

    def borrow(self, symbol: str, short_qty: float, price: float, days: float = 1.0) -> float:
        """Borrow charged on a short of `short_qty` shares held over `days` closes."""
        return abs(short_qty) * price * self.s.borrow_rate_of(symbol) * days / 360.0

    def round_trip_usd(self, symbol: str, qty: float, price: float, spread: float) -> float:
        """Expected cost of opening and closing `qty` shares with marketable orders, in USD.

        `spread` is the quoted spread in USD (ask − bid); each leg pays half of it plus slippage.
        A short pays the sale fees on entry instead of exit (same total) and, closed the same day,
        no borrow. `symbol` selects per-symbol rates.
        """
        del symbol  # every rate in the estimate is the same for all symbols today
        slippage_bp, per_share, minimum, sec_rate, taf_rate, taf_max = self._round_trip_rates
        crossing = qty * spread  # half a spread in, half out
        slippage = 2 * qty * price * slippage_bp * 1e-4
        # fill_fees(BUY) + fill_fees(SELL), inlined with the same arithmetic, `commission` and
        # `_cents_up` included (signals ask for this on every entry they consider, and a call
        # costs more than the arithmetic): a buy pays only the commission
        commission = 0.0 if per_share <= 0 and minimum <= 0 else max(qty * per_share, minimum)
        sec = qty * price * sec_rate / 1e6
        sec = math.ceil(sec * 100 - 1e-9) / 100 if sec > 0 else 0.0
        taf = min(qty * taf_rate, taf_max)
        taf = math.ceil(taf * 100 - 1e-9) / 100 if taf > 0 else 0.0
        sale = sec + taf + commission
        return crossing + slippage + (commission + sale)

    def round_trip_bp(self, symbol: str, qty: float, price: float, spread: float) -> float:
        """The same estimate in bp of the position's notional (what signals compare edges with)."""
        notional = qty * price
        if not notional > 0:
            return math.inf
        return self.round_trip_usd(symbol, qty, price, spread) / notional * 1e4


def _cents_up(usd: float) -> float:
    """Whole cents, rounded up: a fee of 0.0012 USD is charged as 0.01."""
    if usd <= 0:
        return 0.0
    return math.ceil(usd * 100 - 1e-9) / 100
