"""Decay monitor: deviation from L × benchmark, the tightening stop, expected drag vs benefit."""

from __future__ import annotations

import pytest
from tests.kit import strategy as k

from inavd.domain.instruments import Fund
from inavd.signals.config import DecayMonitorSettings
from inavd.signals.decay_monitor import (
    DecayMonitor,
    Entry,
    deviation_bp,
    expected_drag_bp,
    stop_bp,
)

SH = Fund("SH", "SPY", -1.0, 0.0089)


def test_worked_numbers() -> None:
    # SPY +1 %, SH −0.8 %: deviation +20 bp
    assert deviation_bp(SH, Entry(25.0, 300.0), 24.8, 303.0) == pytest.approx(20.0)
    # −3x at 50 % vol for 5 days: 12 × 0.25 × 5/252 / 2 = 2.98 %
    assert expected_drag_bp(-3.0, 0.5, 5) == pytest.approx(297.62, abs=0.01)
    cfg = DecayMonitorSettings(base_stop_bp=150, tighten_scale_bp=50)
    assert stop_bp(cfg, 0.0) == 150.0
    assert stop_bp(cfg, 50.0) == 75.0  # halved at the scale


def step(mon: DecayMonitor, t: int, spy: float, sh: float, held: float = 400):  # type: ignore[no-untyped-def]
    u = k.universe()
    b = k.book(u, {"SPY": (spy - 0.01, spy + 0.01), "SH": (sh - 0.01, sh + 0.01)}, t, warm=1)
    return mon.on_inav(k.event(u, t, {"SH": sh}), k.context(b, t, {"SH": held}))


def test_stop_tightens_with_deviation() -> None:
    mon = DecayMonitor(DecayMonitorSettings(enabled=True), k.universe())
    assert step(mon, k.at(11, 0), 300.0, 25.0) == []  # entry recorded
    # SH −1 % while SPY +0.5 %: deviation −50 bp → stop 75 bp; return −100 bp → exit
    (i,) = step(mon, k.at(11, 1), 301.5, 24.75)
    assert i.target_qty == 0.0 and i.reason.startswith("decay monitor: stop")
    # without deviation the same −100 bp loss is inside the 150 bp stop
    mon2 = DecayMonitor(DecayMonitorSettings(enabled=True), k.universe())
    step(mon2, k.at(11, 0), 300.0, 25.0)
    assert step(mon2, k.at(11, 1), 303.0, 24.75) == []


def test_expected_drag_exit() -> None:
    cfg = DecayMonitorSettings(enabled=True, benefit_bp=1.0, min_samples=3, holding_days=250)
    mon = DecayMonitor(cfg, k.universe())
    out = []
    for n, spy in enumerate([300.0, 301.0, 300.0, 301.0, 300.0]):
        out = step(mon, k.at(11, 0, 15 * n), spy, 25.0 * (1 - (spy / 300 - 1)))
    assert out and "expected drag" in out[0].reason
