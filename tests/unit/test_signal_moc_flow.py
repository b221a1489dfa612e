"""MOC flow: the sign comes from the algebra (inverse funds sell into a falling market)."""

from __future__ import annotations

import pytest
from tests.kit import strategy as k

from inavd.domain.orders import TimeInForce
from inavd.inav.rebalance import rebalance_trade
from inavd.signals.config import MocFlowSettings
from inavd.signals.moc_flow import MocFlow, flow_fraction
from inavd.sizing import Sizer, SizingSettings

CFG = MocFlowSettings(enabled=True, closing_volume_usd={"SPY": 1e9}, min_flow_fraction=0.05)


def test_sh_example_index_down_10_pct_sells_20() -> None:
    assert rebalance_trade(100.0, -1.0, -0.10) == pytest.approx(-20.0)
    assert rebalance_trade(100.0, -3.0, -0.10) == pytest.approx(-120.0)  # −3x: 12 × −10 %
    assert rebalance_trade(100.0, 2.0, -0.10) == pytest.approx(-20.0)
    assert flow_fraction(-60e6, 1e9) == pytest.approx(0.06)


def run(flow: float, times: list[int]) -> list[list]:  # type: ignore[type-arg]
    u = k.universe()
    sig = MocFlow(CFG, u, Sizer(SizingSettings()))
    out = []
    for t in times:
        b = k.book(u, {"SPY": (239.84, 239.86)}, t)
        out.append(sig.on_inav(k.event(u, t, {}, flow_by_benchmark={"SPY": flow}), k.context(b, t)))
    return out


def test_down_day_sells_the_benchmark_at_15_40_and_exits_moc() -> None:
    steps = run(-60e6, [k.at(15, 39, 45), k.at(15, 40), k.at(15, 40, 15), k.at(15, 40, 30)])
    assert steps[0] == []  # before the entry time
    (entry,) = steps[1]
    # Kelly: 5 bp / (50 bp)² → capped 10 % of 100,000 = 10,000 USD → 41 shares at 239.85
    assert (entry.symbol, entry.target_qty) == ("SPY", -41.0)
    assert "sell" in entry.reason and "6.0%" in entry.reason
    assert entry.time_in_force is TimeInForce.DAY
    (exit_,) = steps[2]
    assert (exit_.target_qty, exit_.time_in_force) == (0.0, TimeInForce.CLS)
    assert steps[3] == []  # once per day


def test_up_day_buys_and_a_small_flow_does_nothing() -> None:
    (entry,) = run(+80e6, [k.at(15, 45)])[0]
    assert entry.target_qty == 41.0
    assert run(-40e6, [k.at(15, 45)]) == [[]]  # 4 % < 5 % of closing volume


def test_no_entry_without_time_to_send_the_moc_exit() -> None:
    assert run(-60e6, [k.at(15, 49, 30)]) == [[]]
