"""Small helpers the signals share (round trips, fund lookups, benchmark volatilities)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from inavd.book.quote_book import QuoteBook
from inavd.domain.instruments import Universe
from inavd.signals.base import Context
from inavd.signals.volatility import EwmaVol
from inavd.sizing.kelly import Sizer

Touch = tuple[float, float]  # (bid, ask) of one symbol


def touch(book: QuoteBook, symbol: str) -> Touch | None:
    """(bid, ask) of `symbol`, None for a symbol the book does not know."""
    i = book.index.get(symbol)
    return None if i is None else (book.bid.item(i), book.ask.item(i))


def round_trip_bp(sizer: Sizer, ctx: Context, symbol: str, close_exit: bool = False) -> float:
    """The estimated round trip of one clip of `symbol` at the current quote (bp)."""
    return touch_round_trip_bp(sizer, symbol, ctx.touch(symbol), close_exit)


def touch_round_trip_bp(
    sizer: Sizer, symbol: str, quote: Touch | None, close_exit: bool = False
) -> float:
    """`round_trip_bp` at a touch the caller has read already (one read for every use)."""
    if quote is None:
        return sizer.round_trip_bp(symbol, math.nan, math.nan, close_exit)
    # the mid as `Context.mid` computes it, the half spread in bp of the mid
    return sizer.touch_round_trip_bp(symbol, quote[0], quote[1], close_exit)


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


# a signal with at most this many funds finds its candidates in Python, one read per fund: for a
# few funds that costs less than the numpy calls over the whole event (four, ≈ 0.5 µs each)
SMALL = 32


class FundIndex:
    """Where a signal's funds sit in an event's `symbols`, as a mask for numpy pre-filtering.

    Signals test whole arrays (`ev.premium_bp`) against this mask first and visit in Python only
    the funds that can act: candidates for an entry and the funds held. With few funds (`small`)
    they test `order`, their positions, one by one instead. Rebuilt when the event's symbols
    change (the engine's tuple is fixed, so in practice once).
    """

    def __init__(self, selected: Callable[[str], bool]) -> None:
        self.selected = selected
        self.symbols: tuple[str, ...] | None = None
        self.pos: dict[str, int] = {}
        self.order: list[int] = []  # the positions of ours, in event order
        self.small = True
        self.mask: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)

    def update(self, symbols: tuple[str, ...]) -> bool:
        """Point at `symbols`; True when they changed (callers rebuild per-fund arrays)."""
        if symbols is self.symbols:
            return False
        self.symbols = symbols
        self.pos = {s: j for j, s in enumerate(symbols) if self.selected(s)}
        self.order = list(self.pos.values())
        self.small = len(self.order) <= SMALL
        self.mask = np.array([self.selected(s) for s in symbols], dtype=bool)
        return True

    def visit(
        self, candidates: npt.NDArray[np.bool_] | None, held: Mapping[str, float]
    ) -> list[int]:
        """Indices to look at, in event order: the `candidates` among ours, and ours `held`."""
        found: list[int] = []
        if candidates is not None:
            # `nonzero` is flatnonzero without its two Python-level calls (≈ 1.5 µs a step)
            found = (candidates & self.mask).nonzero()[0].tolist()  # sorted, unique
        return self.with_held(found, held)

    def with_held(self, found: list[int], held: Mapping[str, float]) -> list[int]:
        """`found` (ours, sorted, unique) and ours `held`, in event order."""
        pos = self.pos
        mine = [pos[s] for s in held if s in pos]
        if not mine:
            return found
        return sorted(set(found).union(mine))


class BenchmarkVols:
    """EWMA volatilities of benchmark mids, one per (benchmark, λ), shared by the signals.

    Premium arbitrage, MOC flow, the vol hedge and the decay monitor each keep an EWMA of the same
    benchmarks' mids, updated at every evaluation: four copies of one estimate, sixteen updates a
    step for four benchmarks. Shared, the first of them to run at an evaluation updates every
    estimate and the others find it done (one update per context). Each reads what its own copy
    would have held: every signal that asks for an estimate updates it at every evaluation it
    runs at (the core runs them all at each one, on a book that does not move during the step).
    """

    def __init__(self) -> None:
        self._by_bench: dict[str, list[EwmaVol]] = {}
        self._updated: Context | None = None  # the context the estimates were last updated at

    def get(self, benchmark: str, lam: float) -> EwmaVol:
        """The estimate of `benchmark` with decay `lam` (one instance for every signal)."""
        vols = self._by_bench.setdefault(benchmark, [])
        for v in vols:
            if v.lam == lam:
                return v
        v = EwmaVol(lam)
        vols.append(v)
        return v

    def update(self, ctx: Context) -> None:
        """Every estimate at this evaluation's mids, once however many signals ask."""
        if ctx is self._updated:
            return
        self._updated = ctx
        now = ctx.now_ns
        index = ctx.book.index
        bids, asks = ctx.quotes
        for bench, vols in self._by_bench.items():
            i = index.get(bench)
            if i is None:
                continue  # no mid (`Context.mid` is nan): no estimate moves
            px = (bids[i] + asks[i]) * 0.5  # `Context.mid`
            if not px > 0:
                continue
            for v in vols:
                v.update(now, px)
