"""The trading state: leaving HALTED takes an operator; changes are journaled and restored."""

from __future__ import annotations

from pathlib import Path

from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import TradingState, TradingStateChanged
from inavd.execution.journal import Journal
from inavd.execution.state_store import TradingStateStore
from inavd.risk.state import TradingStateController

A, R, H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


def _controller() -> tuple[TradingStateController, list[TradingStateChanged]]:
    bus = Bus()
    seen: list[TradingStateChanged] = []
    bus.subscribe(TradingStateChanged, seen.append)
    return TradingStateController(bus, SimClock(1_000)), seen


def test_leaving_halted_needs_an_operator() -> None:
    ts, seen = _controller()
    assert ts.set(H, "daily loss limit: P&L -5,100 USD")
    assert not ts.set(A, "config") and not ts.set(R, "something")
    assert ts.state is H and ts.refused == 2
    assert ts.set(A, "operator resume (http)", operator=True)
    assert [(e.state, e.reason) for e in seen] == [
        (H, "daily loss limit: P&L -5,100 USD"),
        (A, "operator resume (http)"),
    ]


def _store(j: Journal, run: str, live: bool, realized: float = 0.0) -> TradingStateStore:
    return TradingStateStore(j, "2026-03-06", run, whole_session=live, realized=lambda: realized)


def test_changes_are_journaled_except_the_shutdown_halt(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    ts, _ = _controller()
    ts.store = _store(j, "r1", live=True, realized=-812.5)
    ts.set(R, "operator reduce-only (mqtt)")
    ts.set(H, "shutdown", durable=False)
    rows = j.query("SELECT session, run_id, state, reason, realized_pnl_usd FROM trading_states")
    assert rows == [("2026-03-06", "r1", "reducing", "operator reduce-only (mqtt)", -812.5)]
    j.close()


def test_live_restart_under_a_new_run_id_stays_halted_and_carries_pnl(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = Journal(path)
    for run, sh in (("r1", -1_000.0), ("r2", -150.25)):  # realized P&L per symbol
        j.execute("INSERT INTO positions VALUES (?,?,?,?,?,?)", (run, "SH", 0.0, 0.0, sh, 1))
        j.execute("INSERT INTO positions VALUES (?,?,?,?,?,?)", (run, "SQQQ", 0.0, 0.0, -2e3, 2))
    _store(j, "r1", live=True).save(A, "start")
    _store(j, "r2", live=True).save(H, "daily loss limit: P&L -5,150 USD")
    j.close()  # as after kill -9: nothing else happens before the restart

    j = Journal(path)
    store = _store(j, "r3", live=True)
    last = store.last()
    assert last is not None and (last.state, last.run_id) == (H, "r2")
    # every symbol of every earlier run: (-1,000 - 2,000) + (-150.25 - 2,000)
    assert store.carried_pnl_usd() == -5_150.25
    ts, _ = _controller()
    assert ts.restore(last.state, last.reason) and ts.state is H
    assert ts.reason == "restored: daily loss limit: P&L -5,150 USD"
    # a replay of the same day is a new simulation: it does not inherit the live session's state
    replay = _store(j, "r4", live=False)
    assert replay.last() is None and replay.carried_pnl_usd() == 0.0
    j.close()


def test_restore_never_loosens_the_configured_state() -> None:
    ts, _ = _controller()
    ts.set(R, "config")
    assert not ts.restore(A, "operator resume")
    assert ts.state is R
    assert ts.restore(H, "operator halt (http)") and ts.state is H
