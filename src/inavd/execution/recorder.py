"""Writes bus events into the journal as they happen."""

from __future__ import annotations

from inavd.bus import Bus
from inavd.domain.events import (
    InavEvaluated,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    OrderUpdated,
    SignalEmitted,
)
from inavd.domain.ledger import Ledger
from inavd.domain.orders import OrderStatus
from inavd.execution.denials import DenialLog
from inavd.execution.events import ReconciliationDiff
from inavd.execution.journal import Journal

UPDATE_ORDER = (
    "UPDATE orders SET status=?, broker_order_id=?, filled_qty=?, avg_fill_price=?,"
    " updated_ns=? WHERE client_order_id=?"
)
INSERT_EVENT = "INSERT INTO order_events (client_order_id, ts_ns, status, detail) VALUES (?,?,?,?)"
LAZY_STATUSES = frozenset({OrderStatus.PENDING_NEW, OrderStatus.NEW, OrderStatus.ACCEPTED})


class JournalRecorder:
    def __init__(self, journal: Journal, run_id: str) -> None:
        self.j = journal
        self.run_id = run_id
        self.ledger = Ledger()
        self.denials = DenialLog()

    def attach(self, bus: Bus) -> None:
        bus.subscribe(InavEvaluated, self.on_inav)
        bus.subscribe(OrderSubmitted, self.on_submitted)
        bus.subscribe(OrderUpdated, self.on_updated)
        bus.subscribe(OrderFilled, self.on_filled)
        bus.subscribe(SignalEmitted, self.on_signal)
        bus.subscribe(OrderDenied, self.on_denied)
        bus.subscribe(ReconciliationDiff, self.on_reconciliation)

    def on_inav(self, ev: InavEvaluated) -> None:
        """Once per evaluation: the counts of repeated denials become (lazy) updates.
        The iNAV history itself is written by `SnapshotWriter`, off the journal."""
        self.denials.flush(self.j)

    def on_submitted(self, ev: OrderSubmitted) -> None:
        r = ev.request
        seq, parent = self.j.lineage.pop(r.client_order_id, (None, None))
        self.j.begin()
        self.j.execute(
            "INSERT INTO orders (client_order_id, run_id, ts_ns, symbol, side, qty, order_type,"
            " time_in_force, limit_price, strategy, reason, status, updated_ns, seq, parent_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                r.client_order_id,
                self.run_id,
                ev.ts_ns,
                r.symbol,
                r.side.value,
                r.qty,
                r.order_type.value,
                r.time_in_force.value,
                r.limit_price,
                r.strategy,
                r.reason,
                "pending_new",
                ev.ts_ns,
                seq,
                parent,
            ),
        )
        self._event(r.client_order_id, ev.ts_ns, "pending_new", "intent")
        self.j.commit()  # durable before the submit leaves the process

    def on_updated(self, ev: OrderUpdated) -> None:
        o = ev.order
        row = (o.status.value, o.broker_order_id, o.filled_qty, o.avg_fill_price, ev.ts_ns,
               o.client_order_id)  # fmt: skip
        event = (o.client_order_id, ev.ts_ns, o.status.value, o.reject_reason)
        if o.status in LAZY_STATUSES:
            # an acknowledgement need not be durable at once: after a crash the order row is
            # there (committed before the submit) and reconciliation reads its status back
            self.j.write_lazily(UPDATE_ORDER, row)
            self.j.write_lazily(INSERT_EVENT, event)
            return
        self.j.begin()
        self.j.execute(UPDATE_ORDER, row)
        self.j.execute(INSERT_EVENT, event)
        self.j.commit()

    def on_filled(self, ev: OrderFilled) -> None:
        f = ev.fill
        self.ledger.apply(f)
        self.j.begin()
        self.j.execute(
            "INSERT OR IGNORE INTO fills VALUES (?,?,?,?,?,?,?,?,?)",
            (
                f.execution_id,
                self.run_id,
                f.ts_ns,
                f.client_order_id,
                f.symbol,
                f.side.value,
                f.qty,
                f.price,
                f.fee_usd,
            ),
        )
        self.j.execute(
            "INSERT OR REPLACE INTO positions VALUES (?,?,?,?,?,?)",
            (
                self.run_id,
                f.symbol,
                self.ledger.position(f.symbol),
                self.ledger.avg_price.get(f.symbol, 0.0),
                self.ledger.realized_by_symbol.get(f.symbol, 0.0),
                f.ts_ns,
            ),
        )
        self.j.commit()

    def on_signal(self, ev: SignalEmitted) -> None:
        self.j.execute(
            "INSERT INTO signals (run_id, ts_ns, strategy, symbol, target_qty, reason)"
            " VALUES (?,?,?,?,?,?)",
            (self.run_id, ev.ts_ns, ev.strategy, ev.symbol, ev.target_qty, ev.reason),
        )

    def on_denied(self, ev: OrderDenied) -> None:
        self.denials.record(self.j, self.run_id, ev)

    def flush(self) -> None:
        """End of the run: the last counts of repeated denials become durable."""
        self.denials.flush(self.j)
        self.j.commit_lazy()

    def on_reconciliation(self, ev: ReconciliationDiff) -> None:
        self.j.execute(
            "INSERT INTO reconciliations (run_id, ts_ns, kind, symbol, client_order_id, detail)"
            " VALUES (?,?,?,?,?,?)",
            (self.run_id, ev.ts_ns, ev.kind, ev.symbol, ev.client_order_id, ev.detail),
        )

    def _event(self, coid: str, ts: int, status: str, detail: str) -> None:
        self.j.execute(INSERT_EVENT, (coid, ts, status, detail))

