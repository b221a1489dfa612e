"""Small helpers the signals share (time to the close, book reads, fund lookups)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from inavd.domain.instruments import Universe
from inavd.domain.units import NS_PER_S
from inavd.signals.base import Context
from inavd.sizing.kelly import Sizer

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
    i = ctx.book.index.get(symbol)
    if i is None:
        return math.nan
    bid, ask = float(ctx.book.bid[i]), float(ctx.book.ask[i])
    return (ask - bid) / (ask + bid) * 1e4


def round_trip_bp(sizer: Sizer, ctx: Context, symbol: str, close_exit: bool = False) -> float:
    """The estimated round trip of one clip of `symbol` at the current quote (bp)."""
    i = ctx.book.index.get(symbol)
    if i is None:
        return sizer.round_trip_bp(symbol, math.nan, math.nan, close_exit)
    # one read of the touch for both `book_mid` and `half_spread_bp` (the same arithmetic)
    bid, ask = float(ctx.book.bid[i]), float(ctx.book.ask[i])
    mid, half = (bid + ask) * 0.5, (ask - bid) / (ask + bid) * 1e4
    return sizer.round_trip_bp(symbol, mid, half, close_exit)


def clears_costs(edge_bp: float, cost_bp: float) -> bool:
    """An entry is worth taking only when its expected edge beats the round trip (nan: never)."""
    return edge_bp > cost_bp


def default_inverse(universe: Universe, benchmark: str) -> str | None:
    """The benchmark's inverse fund closest to −1x (least volatility drag)."""
    best: tuple[float, str] | None = None
    for f in universe.funds:
        if f.benchmark == benchmark and f.leverage < 0:
            key = (abs(f.leverage + 1.0), f.symbol)
            if best is None or key < best:
                best = key
    return None if best is None else best[1]


class FundIndex:
    """Where a signal's funds sit in an event's `symbols`, as a mask for numpy pre-filtering.

    Signals test whole arrays (`ev.premium_bp`) against this mask first and visit in Python only
    the funds that can act: candidates for an entry and the funds held. Rebuilt when the event's
    symbols change (the engine's tuple is fixed, so in practice once).
    """

    def __init__(self, selected: Callable[[str], bool]) -> None:
        self.selected = selected
        self.symbols: tuple[str, ...] | None = None
        self.pos: dict[str, int] = {}
        self.mask: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)

    def update(self, symbols: tuple[str, ...]) -> bool:
        """Point at `symbols`; True when they changed (callers rebuild per-fund arrays)."""
        if symbols is self.symbols:
            return False
        self.symbols = symbols
        self.pos = {s: j for j, s in enumerate(symbols) if self.selected(s)}
        self.mask = np.array([self.selected(s) for s in symbols], dtype=bool)
        return True

    def visit(
        self, candidates: npt.NDArray[np.bool_] | None, held: Mapping[str, float]
    ) -> list[int]:
        """Indices to look at, in event order: the `candidates` among ours, and ours `held`."""
        found: list[int] = []
        if candidates is not None:
            found = np.flatnonzero(candidates & self.mask).tolist()  # sorted, unique
        pos = self.pos
        mine = [pos[s] for s in held if s in pos]
        if not mine:
            return found
        return sorted(set(found).union(mine))
