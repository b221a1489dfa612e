"""The Broker contract: one suite, run against every venue through a factory fixture.

A venue harness gives the suite a broker plus a way to move the market it trades against. To add
a venue (e.g. the Alpaca adapter over the local Alpaca wire server), write one more factory
returning a `VenueHarness` and add its name to `VENUES`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from inavd.book.quote_book import QuoteBook
from inavd.brokers.base import Broker
from inavd.brokers.paper import PaperBroker
from inavd.clock import SimClock
from inavd.domain.orders import Fill, Order
from inavd.domain.quotes import QuoteBatch

SYMBOLS = ("SH", "PSQ")


@dataclass
class VenueHarness:
    broker: Broker
    quote: Callable[[str, float, float, float], Awaitable[None]]  # symbol, bid, ask, size
    close_auction: Callable[[dict[str, float]], Awaitable[None]]
    updates: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    restart: Callable[[], Awaitable[Broker]] | None = None  # a new client on the same account


async def _paper(tmp: Path, durable: bool) -> VenueHarness:
    book = QuoteBook(SYMBOLS)
    clock = SimClock(1_000)
    state = tmp / "venue.sqlite" if durable else None

    def make() -> PaperBroker:
        return PaperBroker(book, clock, latency_ms=0, state_path=state)

    broker = make()
    ts = [1_000]

    async def quote(symbol: str, bid: float, ask: float, size: float) -> None:
        ts[0] += 1_000_000
        clock.advance_to(ts[0])
        i = book.index[symbol]
        book.apply(QuoteBatch.of([ts[0]], [i], [bid], [ask], [size], [size]))
        h.broker.on_market(ts[0])  # type: ignore[attr-defined]

    async def close_auction(prices: dict[str, float]) -> None:
        h.broker.on_session_close(prices, clock.now_ns())  # type: ignore[attr-defined]

    async def restart() -> Broker:
        h.broker = make()
        h.broker.set_listener(h.updates.append, lambda f, q: h.fills.append(f))
        return h.broker

    h = VenueHarness(broker, quote, close_auction, restart=restart if durable else None)
    broker.set_listener(h.updates.append, lambda f, q: h.fills.append(f))
    return h


VENUES: dict[str, Callable[[Path], Awaitable[VenueHarness]]] = {
    "paper": lambda tmp: _paper(tmp, durable=False),
    "paper-durable": lambda tmp: _paper(tmp, durable=True),
}


@pytest.fixture(params=sorted(VENUES))
async def venue(request: Any, tmp_path: Path) -> AsyncIterator[VenueHarness]:
    h = await VENUES[request.param](tmp_path)
    await h.broker.connect()
    yield h
    await h.broker.close()
