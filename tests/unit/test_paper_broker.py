"""Paper venue: touch fills up to displayed size, marketable limits, closing auction, latency."""

from __future__ import annotations

from typing import Any

import pytest

from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.clock import SimClock
from inavd.domain.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from inavd.domain.quotes import QuoteBatch
from inavd.errors import OrderRejected


class Venue:
    def __init__(self, latency_ms: float = 0.0, cutoff: int | None = None, **kw: Any) -> None:
        self.book = QuoteBook(("SH",))
        self.clock = SimClock(0)
        self.broker = PaperBroker(
            self.book, self.clock, latency_ms=latency_ms, moc_cutoff_ns=cutoff, **kw
        )
        self.updates: list[Order] = []
        self.fills: list[tuple[Fill, float]] = []
        self.broker.set_listener(self.updates.append, lambda f, q: self.fills.append((f, q)))

    def quote(self, ts: int, bid: float, ask: float, bs: float = 300, az: float = 300) -> None:
        self.clock.advance_to(ts)
        self.book.apply(QuoteBatch.of([ts], [0], [bid], [ask], [bs], [az]))
        self.broker.on_market(ts)


def req(coid: str, side: Side, qty: float, **kw: object) -> OrderRequest:
    return OrderRequest(coid, "SH", side, qty, **kw)  # type: ignore[arg-type]


async def test_market_buy_takes_displayed_size_then_waits_for_next_quote() -> None:
    v = Venue()
    v.quote(1, 24.00, 24.01, az=300)
    await v.broker.submit(req("a", Side.BUY, 500))
    v.broker.on_market(1)
    assert [(f.qty, f.price) for f, _ in v.fills] == [(300, 24.01)]
    v.broker.on_market(2)  # same quote: its displayed size is used up
    assert len(v.fills) == 1
    v.quote(3, 24.01, 24.02, az=1000)
    assert [(f.qty, f.price) for f, _ in v.fills] == [(300, 24.01), (200, 24.02)]
    o = await v.broker.get_order("a")
    assert o is not None and o.status is OrderStatus.FILLED
    assert o.avg_fill_price == pytest.approx((300 * 24.01 + 200 * 24.02) / 500)
    assert v.fills[-1][1] == 500  # position after the fill


async def test_limit_fills_only_when_marketable_at_the_touch() -> None:
    v = Venue()
    v.quote(1, 24.00, 24.02)
    await v.broker.submit(req("l", Side.BUY, 100, order_type=OrderType.LIMIT, limit_price=24.01))
    v.broker.on_market(1)
    assert v.fills == []
    v.quote(2, 23.99, 24.005)
    assert [(f.qty, f.price) for f, _ in v.fills] == [(100, 24.005)]  # price improvement


async def test_latency_delays_execution() -> None:
    v = Venue(latency_ms=50)
    v.quote(1, 24.00, 24.01)
    await v.broker.submit(req("x", Side.SELL, 100))
    v.quote(40_000_000, 24.00, 24.01)
    assert v.fills == []
    v.quote(60_000_000, 24.00, 24.01)
    assert [(f.side, f.price) for f, _ in v.fills] == [(Side.SELL, 24.00)]


async def test_market_on_close_fills_at_closing_price_day_orders_expire() -> None:
    v = Venue()
    v.quote(1, 24.00, 24.01)
    await v.broker.submit(req("moc", Side.BUY, 100, time_in_force=TimeInForce.CLS))
    await v.broker.submit(req("day", Side.BUY, 100, order_type=OrderType.LIMIT, limit_price=1.0))
    v.broker.on_market(2)
    assert v.fills == []  # the closing auction is not the continuous market
    v.broker.on_session_close({"SH": 24.105}, 100)
    assert [(f.client_order_id, f.price) for f, _ in v.fills] == [("moc", 24.105)]
    day = await v.broker.get_order("day")
    assert day is not None and day.status is OrderStatus.EXPIRED


async def test_rejections() -> None:
    v = Venue(cutoff=10)
    v.quote(20, 24.00, 24.01)
    with pytest.raises(OrderRejected, match="cutoff"):
        await v.broker.submit(req("late", Side.BUY, 1, time_in_force=TimeInForce.CLS))
    with pytest.raises(OrderRejected, match="unknown symbol"):
        await v.broker.submit(OrderRequest("u", "XYZ", Side.BUY, 1))
    await v.broker.submit(req("dup", Side.BUY, 1))
    with pytest.raises(OrderRejected, match="unique"):
        await v.broker.submit(req("dup", Side.BUY, 1))


async def test_cancel_and_positions_and_pnl() -> None:
    v = Venue()
    v.quote(1, 24.00, 24.01)
    await v.broker.submit(req("b", Side.BUY, 100))
    v.broker.on_market(1)
    v.quote(2, 24.10, 24.11)
    await v.broker.submit(req("s", Side.SELL, 100))
    v.broker.on_market(2)
    assert await v.broker.positions() == {}
    assert v.broker.ledger.realized_pnl_usd == pytest.approx(100 * (24.10 - 24.01))
    await v.broker.submit(req("c", Side.BUY, 1, order_type=OrderType.LIMIT, limit_price=1.0))
    o = await v.broker.cancel("c")
    assert o.status is OrderStatus.CANCELED
    with pytest.raises(OrderRejected):
        await v.broker.cancel("c")
