"""Iceberg: one child at a time, seeded slice sizes, re-pegging, parent cancel, crash resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fault.engine_kit import Engine
from tests.kit.crash import abandon

from inavd.domain.intents import Intent
from inavd.domain.orders import OrderType
from inavd.execution.config import ExecutionSettings, IcebergSettings


def settings(**kw: object) -> ExecutionSettings:
    ice = {"enabled": True, "min_qty": 500, "display_qty": 100, **kw}
    return ExecutionSettings(iceberg=IcebergSettings(**ice))  # type: ignore[arg-type]


def children(e: Engine) -> list[tuple]:
    return e.rows("SELECT client_order_id, qty, limit_price, status FROM orders"
                  " WHERE parent_id IS NOT NULL ORDER BY seq")  # fmt: skip


async def test_slices_go_out_one_at_a_time_until_the_parent_is_done(tmp_path: Path) -> None:
    e = Engine(tmp_path, settings())
    e.quote("SH", 24.00, 24.02, size=60)
    await e.router.handle(Intent("s", "SH", 500, "test"))
    assert len(e.router.open) == 1 and len(children(e)) == 1
    assert e.router.expected_position("SH") == 500  # shown + hidden quantity
    for k in range(12):
        # 60 or 61 shown, a new size each time (an unchanged quote would show only what is left
        # after the last fill): a child fills in two quotes
        e.quote("SH", 24.00, 24.02, size=60 + k % 2)
        await e.router.pump()
        assert len(e.router.open) <= 1  # never two children at once
    assert e.router.ledger.position("SH") == 500
    kids = children(e)
    assert [k[1] for k in kids] == [100.0] * 5 and all(k[3] == "filled" for k in kids)
    assert e.rows("SELECT status FROM algo_parents") == [("done",)]


async def test_randomised_slices_are_seeded_and_within_bounds(tmp_path: Path) -> None:
    sizes = []
    for run in ("a", "b"):
        e = Engine(tmp_path / run, settings(randomize_pct=0.3, seed=11))
        e.quote("SH", 24.00, 24.02)
        await e.router.handle(Intent("s", "SH", 1000, "test"))
        for _ in range(20):
            e.quote("SH", 24.00, 24.02)
            await e.router.pump()
        sizes.append([k[1] for k in children(e)])
    assert sizes[0] == sizes[1] and sum(sizes[0]) == 1000
    assert all(70 <= s <= 130 for s in sizes[0][:-1]) and len(set(sizes[0])) > 1


async def test_child_is_repegged_after_the_market_moves_away(tmp_path: Path) -> None:
    e = Engine(tmp_path, settings(peg="near", reprice_bp=5))
    e.quote("SH", 24.00, 24.02)
    await e.router.handle(Intent("s", "SH", 500, "test"))
    assert children(e)[0][2] == pytest.approx(24.00)
    e.quote("SH", 24.10, 24.12)  # bid up 10 c (41 bp): cancel, then re-send at the new bid
    await e.router.pump()
    await e.router.pump()
    kids = children(e)
    assert [k[3] for k in kids] == ["canceled", "new"]
    assert kids[1][2] == pytest.approx(24.10) and len(e.router.open) == 1


async def test_parent_cancel_cancels_the_live_child(tmp_path: Path) -> None:
    e = Engine(tmp_path, settings(peg="near"))
    e.quote("SH", 24.00, 24.02)
    await e.router.handle(Intent("s", "SH", 500, "buy"))
    await e.router.handle(Intent("s", "SH", 0, "changed my mind"))  # opposing: cancels the parent
    assert e.router.open == {} and [k[3] for k in children(e)] == ["canceled"]
    assert e.rows("SELECT status FROM algo_parents") == [("canceled",)]
    assert e.router.expected_position("SH") == 0


async def test_limit_parent_caps_the_child_price(tmp_path: Path) -> None:
    e = Engine(tmp_path, settings(peg="far", offset_bp=20))
    e.quote("SH", 24.00, 24.02)
    intent = Intent("s", "SH", 500, "t", order_type=OrderType.LIMIT, limit_price=24.01)
    await e.router.handle(intent)
    assert children(e)[0][2] == pytest.approx(24.01)


async def test_restart_resumes_the_parent_without_a_duplicate_slice(tmp_path: Path) -> None:
    e = Engine(tmp_path, settings(peg="near"), venue_state=True)
    e.quote("SH", 24.00, 24.02)
    await e.router.handle(Intent("s", "SH", 500, "test"))
    e.quote("SH", 23.90, 24.00, size=40)  # the ask reaches the child: 40 of 100 fill
    live = children(e)[0][0]
    # crash: a new process on the same journal and venue
    abandon(e.journal)
    e2 = Engine(tmp_path, settings(peg="near"), venue_state=True, book=e.book, clock=e.clock)
    assert e2.router.ready  # the kit does not gate; the app does until this succeeds
    report = await e2.reconciler.run(startup=True)
    assert report.ok
    p = e2.router.icebergs.parents[e2.rows("SELECT parent_id FROM algo_parents")[0][0]]
    assert p.child == live and p.filled_qty == 40 and p.slices == 1
    await e2.router.pump()
    assert len(children(e2)) == 1  # the live child was adopted, not sent again
    assert e2.paper.duplicate_submits == 0
    e2.quote("SH", 23.90, 24.00, size=1000)
    await e2.router.pump()
    assert [k[0] for k in children(e2)][:1] == [live] and len(children(e2)) == 2
