"""The Alpaca quote feed over the real alpaca-py stream client against the local wire server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer
from tests.kit.waits import until

from inavd.book.quote_book import QuoteBook
from inavd.domain.quotes import QuoteBatch
from inavd.feeds.alpaca import AlpacaQuoteFeed, FeedFatalError
from inavd.live_config import AlpacaSettings, Credentials

SYMS = ("SPY", "SH", "SDS")
T0 = 1_709_303_400_000_000_000  # 2024-03-01 14:30 UTC
FEED_CLS: type[AlpacaQuoteFeed] = AlpacaQuoteFeed  # test_alpaca_direct_feed swaps in the direct one


@pytest.fixture
async def server() -> AsyncIterator[AlpacaServer]:
    s = await AlpacaServer().start()
    yield s
    await s.stop()


def make_feed(server: AlpacaServer, silence_s: float = 5.0, key: str = KEY) -> AlpacaQuoteFeed:
    settings = AlpacaSettings(
        data_url=server.data_url, silence_s=silence_s, backoff_min_s=0.05, backoff_max_s=0.2
    )
    index = {s: i for i, s in enumerate(SYMS)}
    return FEED_CLS(index, Credentials(key, SECRET), settings, lambda _ns: True)


class Collector:
    """Runs a feed's batches() into a QuoteBook in the background."""

    def __init__(self, feed: AlpacaQuoteFeed) -> None:
        self.feed = feed
        self.book = QuoteBook(SYMS)
        self.batches: list[QuoteBatch] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for b in self.feed.batches():
            self.batches.append(b)
            self.book.apply(b)

    @property
    def n(self) -> int:
        return sum(len(b) for b in self.batches)

    async def wait_for(self, n: int, within: float = 5.0) -> None:
        await until(lambda: self.n >= n, within)

    async def close(self) -> None:
        await self.feed.stop()
        await asyncio.wait_for(self.task, 5)


def frame(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        wire.quote(SYMS[k % 3], 100.0 + k * 0.01, 100.02 + k * 0.01, 3, 4, T0 + k * 1000)
        for k in range(start, start + n)
    ]


async def test_quotes_reach_the_book_including_fragmented_frames(server: AlpacaServer) -> None:
    c = Collector(make_feed(server))
    await server.wait_subscribed()
    assert set(server.md.subscriptions[0]["quotes"]) == set(SYMS)
    await server.push(frame(3))
    await server.push(frame(300, start=3), fragment=700)  # one message in several ws frames
    await c.wait_for(303)
    book = c.book
    last = frame(303)[-3:]  # the newest quote of each symbol
    for q in last:
        i = book.index[str(q["S"])]
        assert book.bid[i] == pytest.approx(q["bp"])
        assert book.ask[i] == pytest.approx(q["ap"])
    ts = np.concatenate([b.ts_ns for b in c.batches])
    assert ts[0] == T0 and ts[-1] == T0 + 302 * 1000
    assert c.feed.ready
    await c.close()


async def test_bad_message_is_skipped_and_rest_of_batch_kept(server: AlpacaServer) -> None:
    c = Collector(make_feed(server))
    await server.wait_subscribed()
    bad_ts = dict(wire.quote("SPY", 1, 2, 1, 1, T0), t="2024-03-01T14:30:00Z")  # string t
    bad_px = dict(wire.quote("SH", 1, 2, 1, 1, T0), bp="x")
    unknown = wire.quote("ZZZ", 1, 2, 1, 1, T0)
    await server.push([*frame(2), bad_ts, bad_px, unknown, *frame(2, start=2)])
    await c.wait_for(4)
    await asyncio.sleep(0.05)
    assert c.n == 4
    assert c.feed.stats.bad == 3
    await c.close()


async def test_drop_reconnects_and_resubscribes(server: AlpacaServer) -> None:
    c = Collector(make_feed(server))
    await server.wait_subscribed()
    await server.push(frame(3))
    await c.wait_for(3)
    await server.drop_market_data()
    await server.wait_subscribed(2)
    assert server.md.subscriptions[1]["quotes"] == server.md.subscriptions[0]["quotes"]
    await server.push(frame(3, start=3))
    await c.wait_for(6)
    assert c.feed.stats.connects == 2
    await c.close()


async def test_silent_socket_fires_watchdog_within_threshold(server: AlpacaServer) -> None:
    feed = make_feed(server, silence_s=0.4)
    c = Collector(feed)
    await server.wait_subscribed()
    await server.push(frame(3))
    await c.wait_for(3)
    assert feed.ready and feed.gate(None) is None  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    while feed.stats.watchdog_fires == 0:
        await asyncio.sleep(0.02)
        assert loop.time() - t0 < 0.4 + 0.5, "watchdog did not fire"
    assert loop.time() - t0 >= 0.3
    assert not feed.ready
    assert feed.gate(None) == ("feed", "market data not ready")  # type: ignore[arg-type]
    await server.wait_subscribed(2)  # it reconnected and subscribed again
    await server.push(frame(1, start=3))
    await c.wait_for(4)
    assert feed.ready
    await c.close()


@pytest.mark.parametrize("code", [402, 409])
async def test_auth_failures_are_fatal_without_retry(server: AlpacaServer, code: int) -> None:
    server.md.auth_error = code
    feed = make_feed(server)
    with pytest.raises(FeedFatalError, match=str(code)):
        async with asyncio.timeout(5):
            async for _ in feed.batches():
                pass
    await asyncio.sleep(0.3)
    assert server.md.connects == 1  # no retry


async def test_wrong_key_is_402(server: AlpacaServer) -> None:
    with pytest.raises(FeedFatalError, match="402"):
        async with asyncio.timeout(5):
            async for _ in make_feed(server, key="PKWRONG").batches():
                pass


async def test_symbol_limit_405_is_reported(server: AlpacaServer) -> None:
    server.md.symbol_limit = 2
    with pytest.raises(FeedFatalError, match=r"405.*symbol limit"):
        async with asyncio.timeout(5):
            async for _ in make_feed(server).batches():
                pass


async def test_connection_limit_406_backs_off_then_connects(server: AlpacaServer) -> None:
    server.md.half_dead_s = 0.5  # a previous connection is still held by the server
    import time

    server.md.slot_busy_until = time.monotonic() + 0.5
    c = Collector(make_feed(server))
    await server.wait_subscribed(within=5)
    errors = server.md.auth_errors
    assert errors and set(errors) == {406}
    assert 1 <= len(errors) <= 12  # backed off, not a tight loop (min 0.05 s, max 0.2 s)
    assert c.feed.stats.errors[406] == len(errors)
    await server.push(frame(1))
    await c.wait_for(1)
    await c.close()
