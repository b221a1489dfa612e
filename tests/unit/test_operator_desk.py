"""The operator port acts through the router and the broker gateway: cancels and flattening are
journaled and counted like any order (not sent to the venue behind the router's back)."""

from __future__ import annotations

from pathlib import Path

from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import TradingState
from inavd.domain.intents import Intent
from inavd.domain.orders import Fill, OrderType, Side
from inavd.domain.quotes import QuoteBatch
from inavd.execution.journal import Journal
from inavd.execution.operator import OperatorDesk
from inavd.execution.recorder import JournalRecorder
from inavd.execution.router import OrderRouter
from inavd.risk.state import TradingStateController


def _desk(tmp_path: Path) -> tuple[OperatorDesk, OrderRouter, Journal]:
    book = QuoteBook(("SH",))
    clock = SimClock(1)
    book.apply(QuoteBatch.of([1], [0], [24.0], [24.02], [500], [500]))
    paper = PaperBroker(book, clock)
    bus = Bus()
    journal = Journal(tmp_path / "j.sqlite")
    router = OrderRouter("run", paper, bus, clock, journal=journal, book=book)
    JournalRecorder(journal, "run").attach(bus)
    paper.set_listener(router.on_order, router.on_fill)
    return OperatorDesk(router, TradingStateController(bus, clock)), router, journal


async def test_cancel_all_goes_through_the_gateway_and_is_journaled(tmp_path: Path) -> None:
    desk, router, journal = _desk(tmp_path)
    resting = Intent("s", "SH", 100.0, "bid below", OrderType.LIMIT, limit_price=23.50)
    assert await router.handle(resting) is not None and len(router.open) == 1
    assert await desk.cancel_all("operator halt (mqtt)") == 1
    assert router.open == {}
    assert sum(router.gateway.stats.latency["cancel"].counts) == 1  # timed by the gateway
    assert journal.query("SELECT status FROM orders") == [("canceled",)]
    journal.close()


async def test_flatten_is_reduce_only_then_orders_through_the_router(tmp_path: Path) -> None:
    desk, router, journal = _desk(tmp_path)
    router.ledger.apply(Fill(1, "c0", "b0", "SH", Side.BUY, 300.0, 24.01, "e0"))
    assert await desk.flatten("operator flatten (http)") == 1
    assert desk.state.state is TradingState.REDUCING
    assert desk.state.reason == "operator flatten (http)"
    rows = journal.query("SELECT symbol, side, qty, strategy FROM orders")
    assert rows == [("SH", "sell", 300.0, "operator")]
    assert sum(router.gateway.stats.latency["submit"].counts) == 1
    # an operator may leave HALTED; nothing else may
    desk.state.set(TradingState.HALTED, "daily loss limit")
    assert not desk.state.set(TradingState.ACTIVE, "config")
    assert desk.set_state(TradingState.ACTIVE, "operator resume (http)")
    journal.close()
