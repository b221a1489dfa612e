"""Start-of-day reference adjustments: what was changed, from what to what, and why."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec


class Adjustment(msgspec.Struct, frozen=True):
    """A proxy's prior close reduced by its dividend, or a fund's prior NAV by its distribution."""

    symbol: str
    kind: Literal["dividend", "distribution"]
    ex_date: date
    amount: float  # cash per share, USD
    before: float
    after: float

    def as_dict(self) -> dict[str, Any]:
        field = "prior_close" if self.kind == "dividend" else "prior_nav"
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "ex_date": self.ex_date.isoformat(),
            "cash_amount": self.amount,
            "field": field,
            "before": round(self.before, 6),
            "after": round(self.after, 6),
        }
