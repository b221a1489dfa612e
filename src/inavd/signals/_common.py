"""Small helpers the signals share (time to the close, book reads, fund lookups)."""

from __future__ import annotations

import math

from inavd.domain.instruments import Universe
from inavd.domain.units import NS_PER_S
from inavd.signals.base import Context

MIN_NS = 60 * NS_PER_S


def minutes_to_close(ctx: Context) -> float:
    """Minutes left in the regular session (−inf without a session: never trade)."""
    if ctx.session is None:
        return -math.inf
    return (ctx.session.close_ns - ctx.now_ns) / MIN_NS


def book_mid(ctx: Context, symbol: str) -> float:
    i = ctx.book.index.get(symbol)
    if i is None:
        return math.nan
    return float(ctx.book.bid[i] + ctx.book.ask[i]) * 0.5


def half_spread_bp(ctx: Context, symbol: str) -> float:
    i = ctx.book.index[symbol]
    bid, ask = float(ctx.book.bid[i]), float(ctx.book.ask[i])
    return (ask - bid) / (ask + bid) * 1e4


def default_inverse(universe: Universe, benchmark: str) -> str | None:
    """The benchmark's inverse fund closest to −1x (least volatility drag)."""
    best: tuple[float, str] | None = None
    for f in universe.funds:
        if f.benchmark == benchmark and f.leverage < 0:
            key = (abs(f.leverage + 1.0), f.symbol)
            if best is None or key < best:
                best = key
    return None if best is None else best[1]
