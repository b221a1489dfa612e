"""The expected-position view the signals read equals the router's per-symbol answer, through
resting orders, iceberg parents, partial fills and flat symbols."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fault.engine_kit import Engine

from inavd.domain.intents import Intent
from inavd.execution.config import ExecutionSettings, IcebergSettings


def _same(e: Engine) -> dict[str, float]:
    view = e.router.expected_positions(e.book.index)
    for sym in e.book.symbols:
        assert view[sym] == e.router.expected_position(sym) == view.get(sym, 0.0)
    with pytest.raises(KeyError):
        view["NOPE"]
    return {s: q for s, q in view.items() if q}


async def test_view_matches_per_symbol_answers_as_orders_work_and_fill(tmp_path: Path) -> None:
    ice = IcebergSettings(enabled=True, min_qty=500, display_qty=100)
    e = Engine(tmp_path, ExecutionSettings(iceberg=ice))
    assert _same(e) == {}
    e.quote("SH", 24.00, 24.02, size=60)
    e.quote("PSQ", 30.00, 30.03, size=1000)
    await e.router.handle(Intent("s", "SH", 500, "iceberg parent"))  # 100 shown + 400 hidden
    await e.router.handle(Intent("s", "PSQ", -200, "short"))
    assert _same(e)["SH"] == 500
    for _ in range(3):
        e.quote("SH", 24.00, 24.02, size=60)
        e.quote("PSQ", 30.00, 30.03, size=1000)
        await e.router.pump()
        held = _same(e)
        assert held["SH"] == 500  # part filled, part working: the total does not move
    assert e.router.ledger.position("SH") > 0
    assert held.get("PSQ", 0.0) == -200
