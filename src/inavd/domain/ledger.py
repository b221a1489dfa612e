"""Positions, average prices, realised P&L and fees from fills (average-cost method).

`realized_pnl_usd` is the trading result of closed quantity before costs; `fees_usd` collects what
the fills were charged (and borrow, via `charge`). Net P&L = realised + unrealised − fees.
"""

from __future__ import annotations

import msgspec

from inavd.domain.orders import Fill, Position
from inavd.domain.units import qty_is_zero


class Ledger(msgspec.Struct):
    cash_usd: float = 0.0
    realized_pnl_usd: float = 0.0
    fees_usd: float = 0.0
    qty: dict[str, float] = msgspec.field(default_factory=dict)
    avg_price: dict[str, float] = msgspec.field(default_factory=dict)
    realized_by_symbol: dict[str, float] = msgspec.field(default_factory=dict)
    turnover_usd: float = 0.0
    round_trips: int = 0  # positions taken from flat and brought back to flat (or through it)

    def apply(self, fill: Fill) -> float:
        """Book a fill; returns the signed position after it."""
        sym = fill.symbol
        q0 = self.qty.get(sym, 0.0)
        p0 = self.avg_price.get(sym, 0.0)
        dq = fill.signed_qty
        self.cash_usd -= dq * fill.price + fill.fee_usd
        self.fees_usd += fill.fee_usd
        self.turnover_usd += fill.qty * fill.price
        q1 = q0 + dq
        if q0 == 0.0 or (q0 > 0) == (dq > 0):
            # opening or adding: new average cost
            self.avg_price[sym] = (q0 * p0 + dq * fill.price) / q1
        else:
            closed = min(abs(dq), abs(q0))
            pnl = closed * (fill.price - p0) * (1 if q0 > 0 else -1)
            self.realized_pnl_usd += pnl
            self.realized_by_symbol[sym] = self.realized_by_symbol.get(sym, 0.0) + pnl
            if abs(dq) > abs(q0) + 1e-9 or qty_is_zero(q1):
                self.round_trips += 1
            if abs(dq) > abs(q0):  # flipped through zero: the remainder opens at the fill price
                self.avg_price[sym] = fill.price
        if qty_is_zero(q1):
            self.qty.pop(sym, None)
            self.avg_price.pop(sym, None)
            return 0.0
        self.qty[sym] = q1
        return q1

    def charge(self, usd: float) -> None:
        """A cost that is not a fill's (borrow on a short held over the close)."""
        self.cash_usd -= usd
        self.fees_usd += usd

    def position(self, symbol: str) -> float:
        return self.qty.get(symbol, 0.0)

    def positions(self) -> dict[str, Position]:
        return {s: Position(s, q, self.avg_price[s]) for s, q in self.qty.items()}

    def unrealized_pnl(self, marks: dict[str, float]) -> float:
        return sum(q * (marks[s] - self.avg_price[s]) for s, q in self.qty.items() if s in marks)
