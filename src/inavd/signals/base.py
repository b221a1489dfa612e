"""The shape every signal has: `on_inav(event, context) -> intents`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from inavd.book.quote_book import QuoteBook
from inavd.calendar import Session
from inavd.domain.events import InavEvaluated
from inavd.domain.intents import Intent


@dataclass(frozen=True)
class Context:
    now_ns: int
    session: Session | None
    book: QuoteBook
    positions: Mapping[str, float]  # the account's signed shares, including working orders
    # strategy → symbol → signed shares (its fills and working orders): targets are per strategy.
    # None (a lone signal in tests and benches) means every position is the signal's own.
    by_strategy: Mapping[str, Mapping[str, float]] | None = None

    @cached_property
    def held(self) -> dict[str, float]:
        """The non-zero positions, found once per step for every signal (most symbols are flat)."""
        return {s: q for s, q in self.positions.items() if q != 0.0}

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
