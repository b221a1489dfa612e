"""Reconciliation with the broker: at start-up (trading gated until it succeeds) and periodically.

The broker is the truth. Open orders, each journaled order still open, fills and positions are
compared with the journal; every difference is repaired (the broker's state adopted and journaled)
and reported as a `ReconciliationDiff` event:

| kind | meaning | repair |
|---|---|---|
| unknown_order | the broker has an order the journal never saw | journaled as adopted |
| order_state | status or filled quantity differ | the broker's status journaled |
| missing_fill | the broker filled more than the journal knows | the fills journaled |
| lost_order | journaled, but the broker never got it | marked rejected (`lost:`), not resent |
| position | positions differ | the broker's positions adopted |
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec
import structlog

from inavd.bus import Bus
from inavd.domain.events import OrderSubmitted
from inavd.domain.ledger import Ledger
from inavd.domain.orders import (
    TERMINAL_STATUSES,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from inavd.domain.units import qty_is_zero
from inavd.errors import BrokerError
from inavd.execution.algos.iceberg import LOST
from inavd.execution.events import ReconciliationDiff
from inavd.execution.journal import Journal
from inavd.execution.router import OrderRouter

log = structlog.get_logger(__name__)
RECENT_NS = 24 * 3600 * 1_000_000_000
_TERMINAL = tuple(s.value for s in TERMINAL_STATUSES)
_Q = ", ".join("?" for _ in _TERMINAL)


class ReconcileReport(msgspec.Struct):
    ok: bool
    diffs: list[ReconciliationDiff] = msgspec.field(default_factory=list)
    error: str = ""


@runtime_checkable
class FillHistory(Protocol):
    """Optional broker capability: the executions of one order (exact execution ids)."""

    async def fills_for(self, client_order_id: str) -> list[Fill]: ...

    async def fills_since(self, ts_ns: int) -> list[Fill]: ...


class Reconciler:
    def __init__(self, router: OrderRouter, journal: Journal, bus: Bus, ledgers: list[Ledger]):
        self.router = router
        self.gw = router.gateway
        self.journal = journal
        self.bus = bus
        self.ledgers = ledgers  # other ledgers that adopt the broker's positions (the recorder's)
        self.runs = 0

    async def run(self, startup: bool = False) -> ReconcileReport:
        now = self.router.clock.now_ns()
        diffs: list[ReconciliationDiff] = []
        try:
            await self._orders(now, diffs)
            await self._recent_fills(now, diffs)
            await self._positions(now, diffs, startup)
        except BrokerError as exc:
            log.error("reconciliation failed; trading stays gated", error=str(exc))
            return ReconcileReport(False, diffs, str(exc))
        for d in diffs:
            self.bus.publish(d)
        if startup:
            self._restore_state()
            self.router.ready = True
        self.runs += 1
        if startup or diffs:
            log.info("reconciled", startup=startup, differences=len(diffs))
        return ReconcileReport(True, diffs)

    # ------------------------------------------------------------------ orders and fills
    async def _orders(self, now: int, diffs: list[ReconciliationDiff]) -> None:
        broker_open = {o.client_order_id: o for o in await self.gw.open_orders()}
        rows = self.journal.query(
            f"SELECT client_order_id FROM orders WHERE status NOT IN ({_Q})", _TERMINAL
        )
        in_flight = {c for c, s in self.router.fsm.status.items() if s is OrderStatus.PENDING_NEW}
        for coid in sorted(({r[0] for r in rows} | set(broker_open)) - in_flight):
            b = broker_open.get(coid) or await self.gw.lookup(coid)
            j = self._journal_order(coid)
            if b is None:
                if j is not None:
                    self._lost(j, now, diffs)
                continue
            if j is None:
                self._adopt_unknown(b, now, diffs)
            await self._fills(b, now, diffs)
            jstatus = self.journal.query(
                "SELECT status FROM orders WHERE client_order_id=?", (coid,)
            )[0][0]
            if jstatus != b.status.value:
                diffs.append(_diff(now, "order_state", b, f"journal {jstatus}, broker {b.status}"))
            self.router.strategy_of.setdefault(coid, b.request.strategy)
            mine = self.router.open.get(coid)
            if mine is not None and mine.status is b.status and mine.filled_qty == b.filled_qty:
                continue  # in step: nothing to repair
            self.router.fsm.adopt(coid, OrderStatus(jstatus))
            if not self.router.on_order(b):  # stale or illegal: take the broker's word anyway
                self.router.fsm.adopt(coid, b.status)
                self.router.on_order(b)

    def _journal_order(self, coid: str) -> Order | None:
        rows = self.journal.query(
            "SELECT symbol, side, qty, order_type, time_in_force, limit_price, strategy, reason,"
            " status, broker_order_id, filled_qty, avg_fill_price FROM orders"
            " WHERE client_order_id=?",
            (coid,),
        )
        if not rows:
            return None
        sym, side, qty, otype, tif, limit, strat, reason, status, boid, filled, avg = rows[0]
        req = OrderRequest(
            coid, sym, Side(side), qty, OrderType(otype), TimeInForce(tif), limit, strat or "",
            reason or "",
        )  # fmt: skip
        return Order(req, boid or "", OrderStatus(status), filled, avg)

    def _lost(self, j: Order, now: int, diffs: list[ReconciliationDiff]) -> None:
        why = f"{LOST} not at the broker after restart"
        self.router.fsm.adopt(j.client_order_id, j.status)
        self.router.on_order(Order(j.request, "", OrderStatus.REJECTED, j.filled_qty, None, now,
                                   now, why))  # fmt: skip
        diffs.append(_diff(now, "lost_order", j, why))

    def _adopt_unknown(self, b: Order, now: int, diffs: list[ReconciliationDiff]) -> None:
        self.journal.begin()
        self.bus.publish(OrderSubmitted(b.submitted_ns or now, b.request))
        self.journal.commit()
        diffs.append(_diff(now, "unknown_order", b, "adopted from the broker"))

    async def _fills(self, b: Order, now: int, diffs: list[ReconciliationDiff]) -> None:
        coid = b.client_order_id
        known = {
            r[0]: r[1]
            for r in self.journal.query(
                "SELECT execution_id, qty FROM fills WHERE client_order_id=?", (coid,)
            )
        }
        missing_qty = b.filled_qty - sum(known.values())
        if missing_qty <= 1e-9:
            return
        broker = self.router.broker
        if isinstance(broker, FillHistory):
            fills = await self.gw.call(lambda: broker.fills_for(coid))
            missing = [f for f in fills if f.execution_id not in known]
        else:  # one synthetic fill for the difference, priced from the averages
            px = ((b.avg_fill_price or 0.0) * b.filled_qty - self._notional(coid)) / missing_qty
            missing = [
                Fill(b.updated_ns or now, coid, b.broker_order_id, b.symbol, b.request.side,
                     missing_qty, px, f"recon-{coid}-{b.filled_qty:g}")
            ]  # fmt: skip
        for f in missing:
            pos = self.router.ledger.position(f.symbol) + f.signed_qty
            self.router.on_fill(f, pos)
            diffs.append(_diff(now, "missing_fill", b, f"{f.execution_id} {f.qty:g} @ {f.price}"))

    async def _recent_fills(self, now: int, diffs: list[ReconciliationDiff]) -> None:
        """Executions of the last day the journal lacks, e.g. of orders that finished while
        the daemon was down (they are in no open-order list)."""
        broker = self.router.broker
        if not isinstance(broker, FillHistory):
            return
        since = now - RECENT_NS
        fills = await self.gw.call(lambda: broker.fills_since(since))
        known = {e for (e,) in self.journal.query(
            "SELECT execution_id FROM fills WHERE ts_ns >= ?", (since,))}  # fmt: skip
        for f in fills:
            if f.execution_id in known:
                continue
            b = await self.gw.lookup(f.client_order_id)
            if b is not None and self._journal_order(f.client_order_id) is None:
                self._adopt_unknown(b, now, diffs)
                self.router.strategy_of.setdefault(b.client_order_id, b.request.strategy)
                self.router.fsm.adopt(b.client_order_id, OrderStatus.PENDING_NEW)  # as journaled
                self.router.on_order(b)
            pos = self.router.ledger.position(f.symbol) + f.signed_qty
            self.router.on_fill(f, pos)
            known.add(f.execution_id)
            diffs.append(ReconciliationDiff(now, "missing_fill", f.symbol, f.client_order_id,
                                            f"{f.execution_id} {f.qty:g} @ {f.price}"))  # fmt: skip

    def _notional(self, coid: str) -> float:
        row = self.journal.query(
            "SELECT coalesce(sum(qty * price), 0) FROM fills WHERE client_order_id=?", (coid,)
        )
        return float(row[0][0])

    # ------------------------------------------------------------------ positions
    async def _positions(self, now: int, diffs: list[ReconciliationDiff], startup: bool) -> None:
        broker = await self.gw.positions()
        expected = self._journal_positions() if startup else dict(self.router.ledger.qty)
        for sym in sorted(set(broker) | set(expected)):
            b = broker[sym].qty if sym in broker else 0.0
            e = expected.get(sym, 0.0)
            if not qty_is_zero(b - e):
                diffs.append(
                    ReconciliationDiff(now, "position", sym, "", f"journal {e:g}, broker {b:g}")
                )
        for ledger in [self.router.ledger, *self.ledgers]:
            ledger.qty = {s: p.qty for s, p in broker.items() if not qty_is_zero(p.qty)}
            ledger.avg_price = {s: p.avg_price for s, p in broker.items() if s in ledger.qty}

    def _journal_positions(self) -> dict[str, float]:
        """What the journal says the account holds (an ephemeral venue starts flat each run)."""
        if getattr(self.router.broker, "ephemeral", False):
            return dict(self.router.ledger.qty)
        rows = self.journal.query(
            "SELECT symbol, sum(CASE side WHEN 'buy' THEN qty ELSE -qty END) FROM fills"
            " GROUP BY symbol"
        )
        return {s: float(q) for s, q in rows if not qty_is_zero(q)}

    # ------------------------------------------------------------------ after a restart
    def _restore_state(self) -> None:
        r = self.router
        run = r.run_id
        r.restore_seq()
        r.icebergs.restore()
        for coid, strat in self.journal.query(
            "SELECT client_order_id, strategy FROM orders WHERE run_id=?", (run,)
        ):
            r.strategy_of.setdefault(coid, strat or "")
        for pid, strat in self.journal.query(
            "SELECT parent_id, strategy FROM algo_parents WHERE run_id=?", (run,)
        ):
            r.strategy_of.setdefault(pid, strat or "")
        r._exec_ids.update(e for (e,) in self.journal.query("SELECT execution_id FROM fills"))
        for strat, sym, q in self.journal.query(
            "SELECT o.strategy, f.symbol, sum(CASE f.side WHEN 'buy' THEN f.qty ELSE -f.qty END)"
            " FROM fills f JOIN orders o USING (client_order_id) WHERE f.run_id=?"
            " GROUP BY o.strategy, f.symbol",
            (run,),
        ):
            r.by_strategy[(strat or "", sym)] = float(q)
        rows = self.journal.query(
            "SELECT symbol, realized_pnl FROM positions WHERE run_id=?", (run,)
        )  # one row per symbol: its own realised P&L
        fees = self.journal.query("SELECT sum(fee_usd) FROM fills WHERE run_id=?", (run,))
        for ledger in [r.ledger, *self.ledgers]:
            ledger.realized_by_symbol = {str(s): float(p) for s, p in rows}
            ledger.realized_pnl_usd = sum(ledger.realized_by_symbol.values())
            ledger.fees_usd = float(fees[0][0] or 0.0)


def _diff(now: int, kind: str, o: Order, detail: str) -> ReconciliationDiff:
    return ReconciliationDiff(now, kind, o.symbol, o.client_order_id, detail)
