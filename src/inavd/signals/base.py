"""The shape every signal has: `on_inav(event, context) -> intents`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from inavd.book.quote_book import QuoteBook
from inavd.calendar import Session
from inavd.domain.events import InavEvaluated
from inavd.domain.intents import Intent
from inavd.domain.units import NS_PER_S

MIN_NS = 60 * NS_PER_S
# a book of at most this many symbols is read into two lists once per step (≈ 0.25 µs each for
# 24 symbols, then ≈ 20 ns a read instead of ≈ 45 ns for `.item`); a larger one row by row
LIST_BOOK = 512

Quotes = tuple[Sequence[float], Sequence[float]]  # bids and asks by the book's index


@dataclass
class Context:
    """What every signal reads at one evaluation. One is built per evaluation, and the book does
    not move while the signals run (the core applies the next quotes after the step): what is
    derived from them here is the same for every signal of the step. Read it, never set it (it
    is not frozen only so that it can keep what it derives: the held positions and the quotes)."""

    now_ns: int
    session: Session | None
    book: QuoteBook
    positions: Mapping[str, float]  # the account's signed shares, including working orders
    # strategy → symbol → signed shares (its fills and working orders): targets are per strategy.
    # None (a lone signal in tests and benches) means every position is the signal's own.
    by_strategy: Mapping[str, Mapping[str, float]] | None = None
    # derived once per step, at the first read (plain fields: a `cached_property`'s first read
    # takes a lock, ≈ 1 µs on CPython 3.11, and a compiled class has no instance dict)
    _held: dict[str, float] | None = field(default=None, init=False, repr=False, compare=False)
    _quotes: Quotes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # set here as well: compiled, a field outside `__init__` gets no default
        self._held = None
        self._quotes = None

    @property
    def held(self) -> dict[str, float]:
        """The non-zero positions, found once per step for every signal (most symbols are flat)."""
        held = self._held
        if held is None:
            held = self._held = {s: q for s, q in self.positions.items() if q != 0.0}
        return held

    @property
    def minutes_to_close(self) -> float:
        """Minutes left in the regular session (−inf without a session: never trade)."""
        # not cached: the arithmetic costs less than keeping it
        if self.session is None:
            return -math.inf
        return (self.session.close_ns - self.now_ns) / MIN_NS

    @property
    def quotes(self) -> Quotes:
        """The book's bids and asks as Python floats, by the book's index, read once per step for
        every signal (the book does not move during a step): lists for a book of at most
        `LIST_BOOK` symbols, else views that read one double per row asked."""
        quotes = self._quotes
        if quotes is None:
            b = self.book
            if len(b.symbols) <= LIST_BOOK:
                quotes = (b.bid.tolist(), b.ask.tolist())
            else:  # the arrays' `memoryview`s (`.data`): a row reads a Python float, as `.item`
                quotes = cast(Quotes, (b.bid.data, b.ask.data))
            self._quotes = quotes
        return quotes

    def touch(self, symbol: str) -> tuple[float, float] | None:
        """(bid, ask) of `symbol`, None for a symbol the book does not know."""
        i = self.book.index.get(symbol)
        if i is None:
            return None
        bids, asks = self.quotes
        return bids[i], asks[i]

    def mid(self, symbol: str) -> float:
        """The book's mid of `symbol` (nan for a symbol the book does not know)."""
        i = self.book.index.get(symbol)
        if i is None:
            return math.nan
        # Python floats (the sum of two doubles is the same in numpy and in Python)
        bids, asks = self.quotes
        return (bids[i] + asks[i]) * 0.5

    def own(self, strategy: str) -> Mapping[str, float]:
        """The non-zero positions `strategy` holds: the ones its targets move."""
        if self.by_strategy is None:
            return self.held
        return self.by_strategy.get(strategy, {})

    def owners(self) -> Mapping[str, Mapping[str, float]]:
        """Every strategy's positions ("" for positions no strategy is known to hold)."""
        return {"": self.held} if self.by_strategy is None else self.by_strategy


class Signal(Protocol):
    name: str

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]: ...
