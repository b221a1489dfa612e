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
    positions: Mapping[str, float]  # signed shares, including pending orders' targets

    @cached_property
    def held(self) -> dict[str, float]:
        """The non-zero positions, found once per step for every signal (most symbols are flat)."""
        return {s: q for s, q in self.positions.items() if q != 0.0}


class Signal(Protocol):
    name: str

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]: ...
