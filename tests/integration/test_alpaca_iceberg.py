"""The execution engine's iceberg over the Alpaca adapter and the local Alpaca wire server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer
from tests.kit.waits import until

from inavd.book.quote_book import QuoteBook
from inavd.brokers.alpaca.broker import AlpacaBroker
from inavd.bus import Bus
from inavd.clock import WallClock
from inavd.domain.intents import Intent
from inavd.domain.quotes import QuoteBatch
from inavd.execution.config import ExecutionSettings, IcebergSettings
from inavd.execution.router import OrderRouter
from inavd.live_config import AlpacaSettings, Credentials


@pytest.fixture
async def server() -> AsyncIterator[AlpacaServer]:
    s = await AlpacaServer().start()
    yield s
    await s.stop()


@pytest.fixture
async def router(server: AlpacaServer) -> AsyncIterator[OrderRouter]:
    settings = AlpacaSettings(trading_url=server.base, trade_stream_url=server.trade_stream_url,
                              backoff_min_s=0.05, backoff_max_s=0.2, rest_timeout_s=2.0)
    broker = AlpacaBroker(Credentials(KEY, SECRET), settings)
    book = QuoteBook(("SH",))
    book.apply(QuoteBatch.of([1], [0], [24.00], [24.02], [500], [500]))
    cfg = ExecutionSettings(
        iceberg=IcebergSettings(enabled=True, min_qty=500, display_qty=200, peg="near")
    )
    r = OrderRouter("ice", broker, Bus(), WallClock(), settings=cfg, book=book)
    broker.set_listener(r.on_order, r.on_fill)
    await broker.connect(timeout_s=5)
    yield r
    await broker.close()


def children(server: AlpacaServer) -> list[tuple[str, str, str, str | None]]:
    """(client order id, qty, status, limit) of every order the venue got, in order."""
    return [(o["client_order_id"], o["qty"], o["status"], o["limit_price"])
            for o in server.venue.orders.values()]


async def test_children_one_at_a_time_and_parent_cancel_cancels_the_live_child(
    server: AlpacaServer, router: OrderRouter
) -> None:
    await router.handle(Intent("ice", "SH", 500, "test"))
    (parent,) = router.icebergs.working()
    c1 = parent.child
    assert c1 is not None and children(server) == [(c1, "200", "new", "24")]
    await router.pump()  # the child is live: nothing more goes out
    assert len(server.venue.orders) == 1

    await server.fill(c1, None, 24.00)
    await until(lambda: parent.child is None and parent.filled_qty == 200)
    await router.pump()  # the previous child filled: the next slice
    c2 = parent.child
    assert c2 is not None and c2 != c1
    assert children(server) == [(c1, "200", "filled", "24"), (c2, "200", "new", "24")]

    await server.fill(c2, 50, 24.00)  # partly filled: still live, no third child
    await until(lambda: parent.filled_qty == 250)
    await router.pump()
    assert len(server.venue.orders) == 2 and parent.child == c2 and parent.child_open == 150

    await router.icebergs.cancel(parent, router, router.clock.now_ns())
    assert children(server)[1] == (c2, "200", "canceled", "24")
    assert server.venue.open_orders() == [] and parent.status == "canceled"
    await until(lambda: c2 not in router.open)
    await router.pump()
    assert len(server.venue.orders) == 2  # a canceled parent sends nothing more
    assert router.ledger.position("SH") == 250
    assert router.expected_position("SH") == 250
