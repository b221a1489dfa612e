"""The Broker contract: one suite, run against every venue through a factory fixture.

A venue harness gives the suite a broker plus a way to move the market it trades against. To add
a venue, write one more factory returning a `VenueHarness` and add its name to `VENUES`. The
"alpaca" venue is the real adapter (alpaca-py's TradingClient and trade_updates stream) over the
local Alpaca wire server in tests/kit; its market moves return once the broker has received every
fill the server sent, so the suite reads the same state it would read from the paper venue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from inavd.book.quote_book import QuoteBook
from inavd.brokers.alpaca.broker import AlpacaBroker
from inavd.brokers.base import Broker
from inavd.brokers.paper import PaperBroker
from inavd.clock import SimClock
from inavd.domain.orders import Fill, Order
from inavd.domain.quotes import QuoteBatch
from inavd.live_config import AlpacaSettings, Credentials
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer
from tests.kit.waits import until

SYMBOLS = ("SH", "PSQ")


@dataclass
class VenueHarness:
    broker: Broker
    quote: Callable[[str, float, float, float], Awaitable[None]]  # symbol, bid, ask, size
    close_auction: Callable[[dict[str, float]], Awaitable[None]]
    updates: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    restart: Callable[[], Awaitable[Broker]] | None = None  # a new client on the same account
    cleanup: Callable[[], Awaitable[None]] | None = None  # after the broker is closed


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


async def _alpaca(tmp: Path) -> VenueHarness:
    server = await AlpacaServer().start()
    settings = AlpacaSettings(
        trading_url=server.base,
        trade_stream_url=server.trade_stream_url,
        backoff_min_s=0.05,
        backoff_max_s=0.2,
        rest_timeout_s=2.0,
    )

    def make() -> AlpacaBroker:
        b = AlpacaBroker(Credentials(KEY, SECRET), settings)
        b.set_listener(h.updates.append, lambda f, q: h.fills.append(f))
        return b

    async def delivered() -> None:  # fills travel on the trade stream: wait until they arrived
        await until(lambda: len(h.fills) >= server.fills_emitted)

    async def quote(symbol: str, bid: float, ask: float, size: float) -> None:
        await server.quote(symbol, bid, ask)
        await delivered()

    async def close_auction(prices: dict[str, float]) -> None:
        await server.closing_auction(prices)
        await delivered()

    async def restart() -> Broker:
        await h.broker.close()
        h.broker = make()
        await h.broker.connect()
        return h.broker

    h = VenueHarness(
        cast(Broker, None), quote, close_auction, restart=restart, cleanup=server.stop
    )
    h.broker = make()
    return h


VENUES: dict[str, Callable[[Path], Awaitable[VenueHarness]]] = {
    "paper": lambda tmp: _paper(tmp, durable=False),
    "paper-durable": lambda tmp: _paper(tmp, durable=True),
    "alpaca": _alpaca,
}


@pytest.fixture(params=sorted(VENUES))
async def venue(request: Any, tmp_path: Path) -> AsyncIterator[VenueHarness]:
    h = await VENUES[request.param](tmp_path)
    await h.broker.connect()
    try:
        yield h
    finally:
        await h.broker.close()
        if h.cleanup is not None:
            await h.cleanup()
