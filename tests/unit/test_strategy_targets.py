"""Targets kept per strategy and summed per symbol; the decay monitor stops owners, not hedges."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.fault.engine_kit import Engine
from tests.kit import strategy as k

from inavd.calendar import session_for
from inavd.domain.intents import Intent
from inavd.domain.units import NS_PER_S
from inavd.execution.config import ExecutionSettings, MocSettings
from inavd.signals.base import Context
from inavd.signals.config import DecayMonitorSettings
from inavd.signals.decay_monitor import DecayMonitor

DAY = session_for(date(2019, 12, 19))


async def test_two_strategies_sharing_a_fund_sum_their_targets(tmp_path: Path) -> None:
    e = Engine(tmp_path, ExecutionSettings())
    e.quote("SH", 24.0, 24.02)
    await e.router.handle(Intent("a", "SH", 300, "a wants 300"))
    e.quote("SH", 24.0, 24.02)
    await e.router.handle(Intent("b", "SH", 200, "b wants 200"))
    e.quote("SH", 24.0, 24.02)
    assert e.router.ledger.position("SH") == 500  # not 200: b does not overrule a
    await e.router.handle(Intent("a", "SH", 0, "a is done"))
    e.quote("SH", 24.0, 24.02)
    assert e.router.ledger.position("SH") == 200  # b's 200 stay
    assert e.router.strategy_positions() == {"b": {"SH": 200.0}}
    await e.router.handle(Intent("a", "SH", -50, "a sells against b's long"))
    e.quote("SH", 24.0, 24.02)
    assert e.router.ledger.position("SH") == 150
    assert e.router.strategy_positions() == {"a": {"SH": -50.0}, "b": {"SH": 200.0}}
    orders = e.rows("SELECT strategy, side, qty FROM orders ORDER BY seq")
    assert orders == [("a", "buy", 300.0), ("b", "buy", 200.0), ("a", "sell", 300.0),
                      ("a", "sell", 50.0)]  # fmt: skip


async def test_working_orders_count_for_their_own_strategy_only(tmp_path: Path) -> None:
    e = Engine(tmp_path, ExecutionSettings())
    e.quote("SH", 24.0, 24.02)
    await e.router.handle(Intent("a", "SH", 300, "a"))  # working until the next quote
    await e.router.handle(Intent("b", "SH", -100, "b"))  # a sell, but not against a's buy
    assert e.router.own_position("a", "SH") == 300 and e.router.own_position("b", "SH") == -100
    e.quote("SH", 24.0, 24.02)
    assert e.router.ledger.position("SH") == 200


async def test_exit_at_close_leaves_the_other_strategies_shares(tmp_path: Path) -> None:
    assert DAY is not None
    cfg = ExecutionSettings(moc=MocSettings(exit_at_close=["flow"], exit_lead_s=60))
    e = Engine(tmp_path, cfg, session=DAY)
    e.quote("SH", 24.0, 24.02)
    await e.router.handle(Intent("flow", "SH", 300, "flow"))
    await e.router.handle(Intent("hedge", "SH", 200, "hedge"))
    e.quote("SH", 24.0, 24.02)
    e.clock.advance_to(DAY.moc_cutoff_ns() - 30 * NS_PER_S)
    await e.router.pump()
    assert e.rows("SELECT side, qty FROM orders WHERE reason='exit at close'") == [("sell", 300.0)]
    e.paper.on_session_close({"SH": 24.1}, DAY.close_ns)
    assert e.router.ledger.position("SH") == 200


def monitor_step(mon: DecayMonitor, t: int, spy: float, sh: float, owner: str) -> list[Intent]:
    u = k.universe()
    b = k.book(u, {"SPY": (spy - 0.01, spy + 0.01), "SH": (sh - 0.01, sh + 0.01)}, t, warm=1)
    ctx = Context(t, k.session(), b, {"SH": 400.0}, {owner: {"SH": 400.0}})
    return mon.on_inav(k.event(u, t, {"SH": sh}), ctx)


def test_decay_monitor_stops_the_owner_and_exempts_the_hedge() -> None:
    # SH −1 % while SPY +0.5 %: deviation −50 bp → stop 75 bp; the −100 bp return is past it
    mon = DecayMonitor(DecayMonitorSettings(enabled=True), k.universe())
    assert monitor_step(mon, k.at(11, 0), 300.0, 25.0, "premrev") == []
    (i,) = monitor_step(mon, k.at(11, 1), 301.5, 24.75, "premrev")
    assert (i.strategy, i.symbol, i.target_qty) == ("premrev", "SH", 0.0)
    hedge = DecayMonitor(DecayMonitorSettings(enabled=True), k.universe())
    assert monitor_step(hedge, k.at(11, 0), 300.0, 25.0, "volhedge") == []
    assert monitor_step(hedge, k.at(11, 1), 301.5, 24.75, "volhedge") == []
    assert hedge.entries == {}  # not even watched
