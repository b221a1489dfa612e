"""Client-side iceberg: the broker has no display quantity, so the daemon shows one slice at a time.

A parent (total quantity, display quantity, optional limit cap) is worked by child limit orders:
- exactly one child is live at a time; the next one is sent only after the previous one is final
  (filled, or canceled for a re-peg), never on a guess;
- slice k has a deterministic size: `display_qty`, or uniform within display × (1 ± pct) from a
  RNG seeded by (seed, parent id, k), so a restarted process computes the same slices;
- the child's limit is pegged to the near touch, the mid or the far touch (plus `offset_bp`,
  capped by the parent's limit); when the peg moves more than `reprice_bp` away from a live child,
  the child is canceled and, once the cancel is confirmed, the rest goes out as the next slice;
- canceling the parent cancels its live child.

Crash safety: the parent row is journaled before its first child, and every child is an ordinary
journaled order (`orders.parent_id`) committed before it is sent. After a restart the parent's
progress is rebuilt from its children once reconciliation has brought them up to date with the
broker: a child that reached the broker is adopted (never resent); a child that never did is
marked lost and the next slice gets a *new* client order id. No slice can be sent twice.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

import msgspec

from inavd.book.quote_book import QuoteBook
from inavd.domain.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from inavd.execution.config import IcebergSettings
from inavd.execution.ids import child_order_id
from inavd.execution.journal import Journal

QTY_TOL = 1e-9


class Parent(msgspec.Struct):
    parent_id: str
    seq: int
    symbol: str
    side: Side
    total_qty: float
    display_qty: float
    limit_price: float | None
    strategy: str
    reason: str
    status: str = "working"  # working | done | canceled | expired | rejected
    filled_qty: float = 0.0
    slices: int = 0
    child: str | None = None  # the live child's client order id
    child_px: float = 0.0
    child_open: float = 0.0  # the live child's unfilled quantity

    @property
    def remaining(self) -> float:
        return max(self.total_qty - self.filled_qty, 0.0)

    @property
    def unshown(self) -> float:
        return max(self.remaining - self.child_open, 0.0)


class ChildPort(Protocol):
    """What the iceberg needs from the engine: gated, journaled submits and cancels."""

    async def submit_child(self, req: OrderRequest, parent: Parent) -> Order | None: ...

    async def cancel_order(self, client_order_id: str) -> None: ...


class IcebergAlgo:
    def __init__(
        self, cfg: IcebergSettings, book: QuoteBook | None, journal: Journal | None, run_id: str
    ) -> None:
        self.cfg = cfg
        self.book = book
        self.journal = journal
        self.run_id = run_id
        self.parents: dict[str, Parent] = {}
        self.live: dict[str, Parent] = {}  # the working parents, in creation order
        self.by_child: dict[str, str] = {}

    def wants(self, req: OrderRequest) -> bool:
        return (
            self.cfg.enabled
            and self.book is not None
            and req.qty >= self.cfg.min_qty
            and req.time_in_force in (TimeInForce.DAY, TimeInForce.GTC)
        )

    def working(self) -> list[Parent]:
        return list(self.live.values())

    # ------------------------------------------------------------------ lifecycle
    def open_parent(self, req: OrderRequest, seq: int, now_ns: int) -> Parent:
        limit = req.limit_price if req.order_type is OrderType.LIMIT else None
        p = Parent(
            req.client_order_id, seq, req.symbol, req.side, req.qty, self.cfg.display_qty,
            limit, req.strategy, req.reason,
        )  # fmt: skip
        self.parents[p.parent_id] = p
        self.live[p.parent_id] = p
        if self.journal is not None:
            self.journal.begin()
            self.journal.execute(
                "INSERT INTO algo_parents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    p.parent_id, self.run_id, "iceberg", seq, p.symbol, p.side.value, p.total_qty,
                    p.display_qty, limit, p.strategy, p.reason, p.status, now_ns, now_ns,
                ),
            )  # fmt: skip
            self.journal.commit()
        return p

    def finish(self, p: Parent, status: str, now_ns: int) -> None:
        if p.status != "working":
            return
        p.status = status
        self.live.pop(p.parent_id, None)
        if self.journal is not None:
            self.journal.begin()
            self.journal.execute(
                "UPDATE algo_parents SET status=?, updated_ns=? WHERE parent_id=?",
                (status, now_ns, p.parent_id),
            )
            self.journal.commit()

    async def cancel(self, p: Parent, port: ChildPort, now_ns: int) -> None:
        """Parent cancel: no further slices; the live child is canceled too."""
        self.finish(p, "canceled", now_ns)
        if p.child is not None:
            await port.cancel_order(p.child)

    # ------------------------------------------------------------------ slices
    def slice_qty(self, p: Parent, k: int) -> float:
        size = p.display_qty
        if self.cfg.randomize_pct > 0:
            rng = random.Random(f"{self.cfg.seed}:{p.parent_id}:{k}")
            pct = self.cfg.randomize_pct
            size = round(p.display_qty * rng.uniform(1 - pct, 1 + pct))
        size = max(1.0, math.floor(size))
        rest = math.floor(p.remaining + QTY_TOL)
        # never leave a remainder smaller than one share's worth of a slice behind
        return float(min(size, rest))

    def peg(self, p: Parent) -> float | None:
        assert self.book is not None
        i = self.book.index[p.symbol]
        bid, ask = float(self.book.bid[i]), float(self.book.ask[i])
        if not (bid > 0 and ask > 0 and math.isfinite(bid + ask)):
            return None
        buy = p.side is Side.BUY
        base = {"near": bid if buy else ask, "far": ask if buy else bid, "mid": (bid + ask) / 2}[
            self.cfg.peg
        ]
        off = self.cfg.offset_bp * 1e-4
        px = round(base * (1 + off) if buy else base * (1 - off), 2)
        if p.limit_price is not None:
            px = min(px, p.limit_price) if buy else max(px, p.limit_price)
        return px

    async def step(self, port: ChildPort, now_ns: int) -> None:
        """Send the next slice where none is live; cancel children whose peg has moved."""
        for p in self.working():
            if p.remaining <= QTY_TOL:
                self.finish(p, "done", now_ns)
                continue
            px = self.peg(p)
            if px is None:
                continue
            if p.child is None:
                await self._next_slice(p, px, port)
            elif abs(px - p.child_px) > self.cfg.reprice_bp * 1e-4 * p.child_px:
                await port.cancel_order(p.child)  # the next slice follows the confirmed cancel

    async def _next_slice(self, p: Parent, px: float, port: ChildPort) -> None:
        qty = self.slice_qty(p, p.slices + 1)
        if qty <= 0:
            return
        p.slices += 1
        coid = child_order_id(p.parent_id, p.slices)
        req = OrderRequest(
            coid, p.symbol, p.side, qty, OrderType.LIMIT, TimeInForce.DAY, px, p.strategy,
            f"iceberg {p.parent_id} slice {p.slices}",
        )  # fmt: skip
        p.child, p.child_px, p.child_open = coid, px, qty
        self.by_child[coid] = p.parent_id
        if await port.submit_child(req, p) is None and p.child == coid:
            p.child, p.child_open = None, 0.0  # denied or rejected: try again on the next step

    # ------------------------------------------------------------------ broker events
    def on_child_order(self, o: Order, now_ns: int) -> None:
        coid = o.request.client_order_id
        p = self.parents.get(self.by_child.get(coid, ""))
        if p is None or p.child != coid:
            return
        p.child_open = o.remaining_qty
        if o.status.is_open:
            return
        p.child, p.child_open = None, 0.0
        if o.status is OrderStatus.EXPIRED:
            self.finish(p, "expired", now_ns)
        elif o.status is OrderStatus.REJECTED and not o.reject_reason.startswith(LOST):
            self.finish(p, "rejected", now_ns)
        elif p.remaining <= QTY_TOL:
            self.finish(p, "done", now_ns)
        # filled, canceled for a re-peg, or lost in flight: the next step sends the next slice

    def on_child_fill(self, f: Fill) -> None:
        p = self.parents.get(self.by_child.get(f.client_order_id, ""))
        if p is not None:
            p.filled_qty += f.qty

    # ------------------------------------------------------------------ restart
    def restore(self) -> None:
        """Rebuild working parents from the journal (after reconciliation updated the children)."""
        if self.journal is None:
            return
        rows = self.journal.query(
            "SELECT parent_id, seq, symbol, side, total_qty, display_qty, limit_price, strategy,"
            " reason FROM algo_parents WHERE status='working' ORDER BY created_ns, parent_id"
        )
        for pid, seq, sym, side, total, display, limit, strat, reason in rows:
            p = Parent(pid, seq, sym, Side(side), total, display, limit, strat, reason)
            children = self.journal.query(
                "SELECT client_order_id, status, qty, filled_qty, limit_price, seq FROM orders"
                " WHERE parent_id=? ORDER BY seq",
                (pid,),
            )
            for coid, status, qty, filled, limit_px, k in children:
                p.slices = max(p.slices, int(k))  # denied slices left gaps: never reuse an index
                p.filled_qty += filled
                self.by_child[coid] = pid
                if OrderStatus(status).is_open:
                    p.child, p.child_px, p.child_open = coid, limit_px or 0.0, qty - filled
            self.parents[pid] = p
            self.live[pid] = p


LOST = "lost:"  # reject reason prefix: the order never reached the broker
