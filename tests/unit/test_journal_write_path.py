"""Journal schema v3 and the order path's statements: a v2 journal upgrades in place keeping its
rows and ids; an order's sequence and parent land in its INSERT; the GC policy is undone at stop."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

from tests.kit.routing import paper_routing

from inavd import gcpolicy
from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.intents import Intent
from inavd.domain.orders import OrderRequest, OrderType, Side, TimeInForce
from inavd.domain.quotes import QuoteBatch
from inavd.execution import redo
from inavd.execution.journal import MIGRATIONS, SCHEMA_VERSION, Journal
from inavd.execution.router import OrderRouter


def _v2_journal(path: Path) -> None:
    db = sqlite3.connect(str(path), isolation_level=None)
    for v, script in enumerate(MIGRATIONS[:2]):
        for stmt in (s.strip() for s in script.split(";")):
            if stmt:
                db.execute(stmt)
        db.execute(f"PRAGMA user_version={v + 1}")
    db.executemany(
        "INSERT INTO order_events (client_order_id, ts_ns, status, detail) VALUES (?,?,?,?)",
        [("a", 1, "pending_new", "intent"), ("a", 2, "new", None), ("b", 3, "pending_new", "x")],
    )
    db.execute("DELETE FROM order_events WHERE id = 2")  # a gap must survive the copy
    db.execute(
        "INSERT INTO signals (run_id, ts_ns, strategy, symbol, target_qty, reason)"
        " VALUES ('r', 5, 's', 'SH', 100.0, 'why')"
    )
    db.close()


def test_v2_journal_upgrades_keeping_rows_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    _v2_journal(path)
    j = Journal(path)
    try:
        assert SCHEMA_VERSION >= 3 and j.schema_version == SCHEMA_VERSION
        assert j.query("SELECT id, client_order_id, status FROM order_events ORDER BY id") == [
            (1, "a", "pending_new"),
            (3, "b", "pending_new"),
        ]
        assert j.query("SELECT id, symbol, target_qty FROM signals") == [(1, "SH", 100.0)]
        j.execute(
            "INSERT INTO order_events (client_order_id, ts_ns, status) VALUES ('c', 4, 'new')"
        )
        assert j.query("SELECT max(id) FROM order_events") == [(4,)]  # still increasing
        seqs = j.query("SELECT name FROM sqlite_sequence")
        assert ("order_events",) not in seqs and ("signals",) not in seqs
        # a child lookup by parent uses the (now partial) index
        plan = j.query("EXPLAIN QUERY PLAN SELECT seq FROM orders WHERE parent_id = ?", ("p",))
        assert "orders_by_parent" in plan[0][-1]
    finally:
        j.close()


def _router(tmp_path: Path) -> tuple[OrderRouter, Journal, list[str]]:
    r = paper_routing(tmp_path)
    sql: list[str] = []
    r.journal.db.set_trace_callback(sql.append)
    return r.router, r.journal, sql


async def test_order_row_carries_seq_and_is_committed_before_submit(tmp_path: Path) -> None:
    router, journal, sql = _router(tmp_path)
    seen_at_submit: list[list[tuple[str, list[object]]]] = []
    submit = router.broker.submit

    async def spy(req):  # type: ignore[no-untyped-def]
        # what a crash at this instant leaves: the redo log must hold the order's transaction
        seen_at_submit.extend(stmts for _, stmts in redo.scan(journal.redo_path).records)
        return await submit(req)

    router.broker.submit = spy  # type: ignore[method-assign]
    order = await router.handle(Intent("s", "SH", 100.0, "why"))
    assert order is not None
    # one frame, one transaction: the signal, the order row (with its seq) and its event
    assert len(seen_at_submit) == 1
    tables = [stmt.split()[2] for stmt, _ in seen_at_submit[0]]
    assert tables == ["signals", "orders", "order_events"]
    order_params = seen_at_submit[0][1][1]
    assert order_params[0] == order.request.client_order_id and order_params[-2:] == [1, None]
    assert not any(s.startswith("UPDATE orders SET seq") for s, _ in seen_at_submit[0])
    # the order path ran no SQLite statement at all: SQLite gets the frame later
    assert sql == []
    # the acknowledgement is written lazily (reconciliation can read it back after a crash)
    assert len(redo.scan(journal.redo_path).records) == 1
    assert journal.query("SELECT status, seq FROM orders") == [("new", 1)]
    # the read applied the frame and the lazy writes first: one SQLite transaction with them
    assert sql[0] == "BEGIN" and sql.count("COMMIT") == 1
    assert "journal_meta" in sql[sql.index("COMMIT") - 1]
    assert journal.applied_seq() == 1
    assert journal.lineage == {}
    journal.close()


async def test_router_without_recorder_still_journals_seq(tmp_path: Path) -> None:
    book = QuoteBook(("SH",))
    clock = SimClock(1)
    book.apply(QuoteBatch.of([1], [0], [24.0], [24.02], [500], [500]))
    journal = Journal(tmp_path / "j.sqlite")
    journal.execute(
        "INSERT INTO orders (client_order_id, run_id, ts_ns, symbol, side, qty, order_type,"
        " time_in_force, status, updated_ns) VALUES (?,?,?,?,?,?,?,?,?,?)",
        ("run-s-SH-1", "run", 1, "SH", "buy", 1.0, "market", "day", "pending_new", 1),
    )
    bus = Bus()  # no recorder: the router writes seq itself and leaves nothing behind
    router = OrderRouter("run", PaperBroker(book, clock), bus, clock, journal=journal)
    await router._send(_request("run-s-SH-1"), 7, "parent-1")
    assert journal.query("SELECT seq, parent_id FROM orders") == [(7, "parent-1")]
    assert journal.lineage == {}
    journal.close()


def _request(coid: str) -> OrderRequest:
    return OrderRequest(coid, "SH", Side.BUY, 1.0, OrderType.MARKET, TimeInForce.DAY, None, "s", "")


def test_gc_policy_freezes_and_thaws() -> None:
    before = gc.get_threshold()
    keep = [[i] for i in range(1000)]  # long-lived containers
    state = gcpolicy.freeze((12_345, 11, 13))
    try:
        assert gc.get_threshold() == (12_345, 11, 13)
        assert gc.get_freeze_count() >= len(keep)
        # What freezing is for: the long-lived containers are no longer walked by collections.
        walked = {id(o) for o in gc.get_objects()}
        assert not any(id(k) in walked for k in keep)
    finally:
        gcpolicy.thaw(state)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    walked = {id(o) for o in gc.get_objects()}
    assert all(id(k) in walked for k in keep)
