"""Displayed liquidity of the paper venue: what a fill may take from a quote, and at what price.

A quote shows a size at the touch. Whatever the venue's fills take from it is gone until the quote
changes (another price or another size at that side); an unchanged repeat of the quote shows only
what is left. The taker pays the touch, plus an optional linear impact: taking the whole displayed
size costs `impact_bp_per_displayed` bp beyond the touch. With `market_rest = "walk"` a market order
that empties the touch goes on at deeper levels (one spread, at least a cent, apart, each as large
as the displayed size) instead of waiting for the next quote.
"""

from __future__ import annotations

import msgspec
import numpy as np

from inavd.brokers.paper_config import PaperSettings
from inavd.domain.quotes import QuoteBatch
from inavd.domain.units import PRICE_EPS, prices_equal

TICK_USD = 0.01


class Take(msgspec.Struct, frozen=True):
    qty: float
    price: float


class _Taken(msgspec.Struct, frozen=True):
    price: float  # the touch the size was taken at
    shown: float  # the size the quote displayed
    taken: float


class Liquidity:
    def __init__(self, settings: PaperSettings | None = None) -> None:
        self.s = settings or PaperSettings()
        self._taken: dict[tuple[int, bool], _Taken] = {}  # (symbol slot, buy side) → taken

    def available(self, i: int, buy: bool, price: float, shown: float) -> float:
        t = self._taken.get((i, buy))
        if t is None or not prices_equal(t.price, price) or abs(t.shown - shown) > 1e-9:
            return shown  # the quote changed: its size is fresh
        return max(shown - t.taken, 0.0)

    def take(
        self,
        i: int,
        buy: bool,
        want: float,
        touch: float,
        shown: float,
        spread: float,
        market: bool,
    ) -> list[Take]:
        """Executions for `want` shares against the touch (and deeper levels when walking)."""
        avail = self.available(i, buy, touch, shown)
        out: list[Take] = []
        qty = min(want, avail)
        if qty > 0:
            out.append(Take(qty, self._impact(touch, qty, shown, buy)))
            self._taken[(i, buy)] = _Taken(touch, shown, shown - avail + qty)
        rest = want - qty
        if market and rest > 1e-9 and self.s.market_rest == "walk":
            step = max(spread, TICK_USD)
            for level in range(1, self.s.walk_levels + 1):
                if rest <= 1e-9:
                    break
                q = min(rest, shown)
                px = touch + step * level if buy else touch - step * level
                if px <= 0:
                    break
                out.append(Take(q, self._impact(px, q, shown, buy)))
                rest -= q
        return out

    def _impact(self, px: float, qty: float, shown: float, buy: bool) -> float:
        k = self.s.impact_bp_per_displayed
        if not k or shown <= 0:
            return px
        move = px * k * 1e-4 * qty / shown
        return px + move if buy else px - move


def first_quote_at_or_after(
    batch: QuoteBatch, sym: int, live_at_ns: int, buy: bool, limit: float | None
) -> int:
    """Index of the first quote in `batch` an order on `sym` could fill against, or -1.

    The quote must be at or after the order's live time, valid (finite, positive, not crossed,
    showing size on the side the order takes) and, for a limit order, marketable.
    """
    px = batch.ask if buy else batch.bid
    size = batch.ask_size if buy else batch.bid_size
    ok = (
        (batch.sym == sym)
        & (batch.ts_ns >= live_at_ns)
        & np.isfinite(px)
        & (px > 0)
        & (size > 0)
        & (batch.bid <= batch.ask)
        & (batch.bid > 0)
    )
    if limit is not None:
        tol = PRICE_EPS * max(1.0, limit)
        ok &= (px <= limit + tol) if buy else (px >= limit - tol)
    hits = np.flatnonzero(ok)
    return int(hits[0]) if len(hits) else -1
