"""The operator port acts through the router and the broker gateway: cancels and flattening are
journaled and counted like any order (not sent to the venue behind the router's back)."""

from __future__ import annotations

from pathlib import Path

from tests.kit.routing import paper_routing

from inavd.domain.events import TradingState
from inavd.domain.intents import Intent
from inavd.domain.orders import Fill, OrderType, Side
from inavd.execution.journal import Journal
from inavd.execution.operator import OperatorDesk
from inavd.execution.router import OrderRouter
from inavd.risk.state import TradingStateController


def _desk(tmp_path: Path) -> tuple[OperatorDesk, OrderRouter, Journal]:
    r = paper_routing(tmp_path)
    return OperatorDesk(r.router, TradingStateController(r.bus, r.clock)), r.router, r.journal


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
