"""Operator metrics with worked numbers: P&L, exposure, headroom, fees, broker calls."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from inavd.domain.events import OrderFilled
from inavd.domain.ledger import Ledger
from inavd.domain.orders import Fill, Side
from inavd.errors import OrderRejected, RateLimited, UnknownOutcome
from inavd.execution.call_stats import CallStats, error_kind
from inavd.execution.events import ReconciliationDiff
from inavd.ops.trading_metrics import TradingMetrics


def _app() -> Any:
    ledger = Ledger(
        realized_pnl_usd=12.5, qty={"SH": 100.0, "SDS": -50.0}, avg_price={"SH": 30.0, "SDS": 20.0}
    )
    ledger.fees_usd = 1.556  # what the venue charged
    mids = [31.0, 19.0]
    gates = SimpleNamespace(carried_pnl_usd=-100.0, mids=lambda: mids)
    # the gates' P&L: realized 12.5 + carried -100 + unrealized 100 + 50
    gates.pnl_usd = lambda: 62.5
    stats = CallStats()
    stats.observe("submit", 0.004)
    stats.observe("submit", 0.3, RateLimited("429"))
    stats.observe("cancel", 7.0, UnknownOutcome("no answer"))
    return SimpleNamespace(
        router=SimpleNamespace(ledger=ledger, gateway=SimpleNamespace(stats=stats)),
        gates=gates,
        book=SimpleNamespace(index={"SH": 0, "SDS": 1}),
        cfg=SimpleNamespace(
            settings=SimpleNamespace(
                risk=SimpleNamespace(daily_loss_limit_usd=5_000.0),
            )
        ),
        broker=SimpleNamespace(rate_limited=2),
        feed=SimpleNamespace(),
    )


def _samples(m: TradingMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    m.health = SimpleNamespace(check_feed=lambda: SimpleNamespace(ok=True))  # type: ignore[assignment]
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in m.collect()
        for s in fam.samples
    }


def test_money_metrics_worked_example() -> None:
    got = _samples(TradingMetrics(_app(), None))  # type: ignore[arg-type]
    assert got[("inavd_position_usd", (("symbol", "SH"),))] == pytest.approx(3_100.0)
    assert got[("inavd_position_usd", (("symbol", "SDS"),))] == pytest.approx(-950.0)
    assert got[("inavd_exposure_usd", (("side", "gross"),))] == pytest.approx(4_050.0)
    assert got[("inavd_exposure_usd", (("side", "net"),))] == pytest.approx(2_150.0)
    assert got[("inavd_pnl_usd", (("kind", "realized"),))] == pytest.approx(-87.5)  # 12.5 - 100
    # SH: 100 · (31 − 30) = 100; SDS: −50 · (19 − 20) = 50
    assert got[("inavd_pnl_usd", (("kind", "unrealized"),))] == pytest.approx(150.0)
    assert got[("inavd_daily_loss_headroom_usd", ())] == pytest.approx(5_062.5)
    assert got[("inavd_feed_stale", ())] == 0


def test_broker_call_metrics() -> None:
    got = _samples(TradingMetrics(_app(), None))  # type: ignore[arg-type]
    assert got[("inavd_broker_request_seconds_count", (("op", "submit"),))] == 2
    assert got[("inavd_broker_request_seconds_bucket", (("le", "0.005"), ("op", "submit")))] == 1
    assert got[("inavd_broker_request_seconds_sum", (("op", "submit"),))] == pytest.approx(0.304)
    assert got[("inavd_broker_request_seconds_bucket", (("le", "5.0"), ("op", "cancel")))] == 0
    assert got[("inavd_broker_request_seconds_bucket", (("le", "+Inf"), ("op", "cancel")))] == 1
    assert got[("inavd_broker_errors_total", (("kind", "rate_limited"),))] == 1
    assert got[("inavd_broker_errors_total", (("kind", "timeout"),))] == 1
    assert got[("inavd_broker_rate_limited_total", ())] == 3  # 1 seen here + 2 in the adapter
    assert error_kind(OrderRejected("no")) == "rejected" and error_kind(ValueError()) == "other"


def test_fees_and_counts_from_the_bus() -> None:
    m = TradingMetrics(_app(), None)  # type: ignore[arg-type]
    fill = Fill(1, "c1", "b1", "SH", Side.SELL, 1_000, 50.0, "e1")
    m.on_fill(OrderFilled(1, fill, 0.0))
    m.on_reconciliation(ReconciliationDiff(2, "missing_fill", "SH", "c1", "adopted"))
    got = _samples(m)
    assert got[("inavd_fills_total", ())] == 1
    assert got[("inavd_fees_usd_total", ())] == pytest.approx(1.556)  # the ledger's
    assert got[("inavd_reconciliation_differences_total", (("kind", "missing_fill"),))] == 1
