"""In-process paper venue: fills against the quotes with a simulated latency.

A working order matches against the first quote of its symbol at or after its submit time plus the
latency, and then against every later quote until it is done: the core stops at each such quote
(`next_match`), so fills do not depend on how the feed batches quotes or on the iNAV interval.
Market orders take the touch up to the displayed size that is left (paper_liquidity.py); limit
orders fill when marketable, at the touch. Closing-auction (`cls`) orders fill at the session's
official closing price (paper_close.py); DAY orders still open at the close expire. Every fill
carries its fees (costs.py); shorts held over the close pay borrow. Everything runs on the injected
clock, so replays are deterministic.

With `state_path` the venue keeps its orders, fills and every submit attempt in a small SQLite file
(committed before the daemon is told), so it survives a crash of the daemon the way a real broker
does: the restarted daemon finds the orders and fills it had not journaled yet. Without it (the
default) the venue lives in memory and dies with the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec

from inavd.book.quote_book import QuoteBook
from inavd.brokers.base import Account, FillListener, OrderListener
from inavd.brokers.capabilities import AccountRules, AssetRules, ConfiguredRules
from inavd.brokers.paper_close import ClosingAuction
from inavd.brokers.paper_config import PaperSettings
from inavd.brokers.paper_liquidity import Liquidity, first_quote_at_or_after
from inavd.brokers.paper_store import PaperStore
from inavd.clock import Clock
from inavd.costs import CostModel
from inavd.domain.ledger import Ledger
from inavd.domain.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from inavd.domain.quotes import QuoteBatch
from inavd.domain.units import PRICE_EPS
from inavd.errors import OrderRejected


class _Working(msgspec.Struct):
    order: Order
    live_at_ns: int


class PaperBroker:
    name = "paper"

    def __init__(
        self,
        book: QuoteBook,
        clock: Clock,
        latency_ms: float = 0.0,
        starting_cash_usd: float = 1_000_000.0,
        moc_cutoff_ns: int | None = None,
        id_prefix: str = "paper",
        state_path: Path | None = None,
        rules: ConfiguredRules | None = None,
        *,
        settings: PaperSettings | None = None,
        costs: CostModel | None = None,
        auction: ClosingAuction | None = None,
    ) -> None:
        self.rules = rules or ConfiguredRules()  # what the simulated venue lends, account rules
        self.id_prefix = id_prefix  # keeps broker and execution ids unique across runs
        self.book = book
        self.clock = clock
        self.latency_ns = int(latency_ms * 1e6)
        self.ledger = Ledger(cash_usd=starting_cash_usd)
        self.moc_cutoff_ns = moc_cutoff_ns
        self.orders: dict[str, Order] = {}
        self._working: dict[str, _Working] = {}
        self.liquidity = Liquidity(settings)
        self.costs = costs or CostModel()
        self.auction = auction or ClosingAuction()
        self._seq = 0
        self._exec_seq = 0
        self._on_order: OrderListener = lambda o: None
        self._on_fill: FillListener = lambda f, q: None
        self.fills: list[Fill] = []
        self.duplicate_submits = 0
        self.ephemeral = state_path is None  # a new account every run
        self._store = PaperStore(state_path) if state_path is not None else None
        if self._store is not None:
            self._load(self._store)

    # ------------------------------------------------------------------ protocol
    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def set_listener(self, on_order: OrderListener, on_fill: FillListener) -> None:
        self._on_order, self._on_fill = on_order, on_fill

    async def submit(self, request: OrderRequest) -> Order:
        now = self.clock.now_ns()
        if request.client_order_id in self.orders:
            self.duplicate_submits += 1
            if self._store is not None:
                self._store.log_submit(request.client_order_id, now, duplicate=True)
            raise OrderRejected(f"client_order_id must be unique: {request.client_order_id}")
        reason = self._reject_reason(request, now)
        self._seq += 1
        boid = f"{self.id_prefix}-o{self._seq}"
        order = Order(request, boid, OrderStatus.NEW, 0.0, None, now, now)
        if reason:
            order = order.with_status(OrderStatus.REJECTED, now, reason)
        self.orders[request.client_order_id] = order
        if self._store is not None:
            self._store.log_submit(request.client_order_id, now, duplicate=False, order=order)
        if reason:
            self._on_order(order)
            raise OrderRejected(reason)
        self._working[request.client_order_id] = _Working(order, now + self.latency_ns)
        self._on_order(order)
        return order

    async def cancel(self, client_order_id: str) -> Order:
        order = self.orders.get(client_order_id)
        if order is None:
            raise OrderRejected(f"order not found: {client_order_id}")
        if order.status.is_terminal:
            raise OrderRejected(f"order is not cancelable ({order.status})")
        return self._finish(client_order_id, OrderStatus.CANCELED)

    async def replace(
        self, client_order_id: str, new_client_order_id: str, qty: float, limit_price: float | None
    ) -> Order:
        old = self.orders.get(client_order_id)
        if old is None or old.status.is_terminal:
            raise OrderRejected(f"order is not replaceable: {client_order_id}")
        self._finish(client_order_id, OrderStatus.REPLACED)
        req = msgspec.structs.replace(
            old.request, client_order_id=new_client_order_id, qty=qty, limit_price=limit_price
        )
        return await self.submit(req)

    async def get_order(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    async def open_orders(self) -> list[Order]:
        return [w.order for w in self._working.values()]

    async def positions(self) -> dict[str, Position]:
        return self.ledger.positions()

    async def fills_since(self, ts_ns: int) -> list[Fill]:
        """Recent executions (reconciliation compares them with the journal)."""
        return [f for f in self.fills if f.ts_ns >= ts_ns]

    async def fills_for(self, client_order_id: str) -> list[Fill]:
        """Every execution of one order (reconciliation uses it to recover unjournaled fills)."""
        return [f for f in self.fills if f.client_order_id == client_order_id]

    async def account(self) -> Account:
        marks = {s: float(self.book.mid[self.book.index[s]]) for s in self.ledger.qty}
        equity = self.ledger.cash_usd + sum(q * marks[s] for s, q in self.ledger.qty.items())
        return Account(self.ledger.cash_usd, equity, max(self.ledger.cash_usd, 0.0))

    # ------------------------------------------------------------------ venue rules (capabilities)
    async def asset_rules(self, symbols: Sequence[str]) -> dict[str, AssetRules]:
        return self.rules.assets(symbols)

    async def account_rules(self) -> AccountRules:
        # at the start of the day there may be no quote yet: the prior close is held at cost
        held = sum(q * self.ledger.avg_price.get(s, 0.0) for s, q in self.ledger.qty.items())
        last = self.ledger.cash_usd + held
        return self.rules.account(last, last)

    # ------------------------------------------------------------------ market events
    def next_match(self, batch: QuoteBatch) -> int:
        """Index of the first quote in `batch` a working order may fill against (-1: none).

        The core applies the batch up to that quote, sets the clock to it and calls `on_market`,
        so every order meets every quote it could fill on, whatever the batch boundaries.
        """
        first = -1
        last_ns = int(batch.ts_ns[-1]) if len(batch) else -1
        for w in self._working.values():
            req = w.order.request
            if w.live_at_ns > last_ns or req.time_in_force is TimeInForce.CLS:
                continue
            limit = req.limit_price if req.order_type is OrderType.LIMIT else None
            k = first_quote_at_or_after(
                batch, self.book.index[req.symbol], w.live_at_ns, req.side is Side.BUY, limit
            )
            if k >= 0 and (first < 0 or k < first):
                first = k
        return first

    def on_market(self, now_ns: int) -> None:
        """Match working orders against the current book (called after each book update)."""
        for coid in list(self._working):
            w = self._working.get(coid)
            if (
                w is None
                or w.live_at_ns > now_ns
                or w.order.request.time_in_force is TimeInForce.CLS
            ):
                continue
            self._match(coid, w, now_ns)

    def on_session_close(self, closing_mid: dict[str, float], now_ns: int) -> None:
        """Closing auction: fill `cls` orders at the closing print; expire what is left; shorts
        held over the close pay a day of borrow."""
        closing_price = self.auction.run(closing_mid)
        for coid in list(self._working):
            w = self._working[coid]
            req = w.order.request
            if req.time_in_force is TimeInForce.CLS and req.symbol in closing_price:
                px = closing_price[req.symbol]
                if req.order_type is OrderType.MARKET or _limit_ok(req, px):
                    self._fill(coid, w, w.order.remaining_qty, px, now_ns)
                    continue
            if req.time_in_force in (TimeInForce.DAY, TimeInForce.CLS):
                self._finish(coid, OrderStatus.EXPIRED)
        for sym, q in self.ledger.qty.items():
            if q < 0 and sym in closing_price:
                self.ledger.charge(self.costs.borrow(sym, q, closing_price[sym]))

    # ------------------------------------------------------------------ internals
    def _reject_reason(self, req: OrderRequest, now: int) -> str:
        if req.symbol not in self.book.index:
            return f"unknown symbol {req.symbol}"
        if req.qty <= 0:
            return "qty must be positive"
        if req.order_type is OrderType.LIMIT and (req.limit_price is None or req.limit_price <= 0):
            return "limit order needs a positive limit price"
        if (
            req.time_in_force is TimeInForce.CLS
            and self.moc_cutoff_ns is not None
            and now >= self.moc_cutoff_ns
        ):
            return "closing-auction orders are not accepted after the cutoff"
        return ""

    def _match(self, coid: str, w: _Working, now_ns: int) -> None:
        req = w.order.request
        i = self.book.index[req.symbol]
        if int(self.book.last_ns[i]) < w.live_at_ns:
            return  # the order was not at the venue yet when this quote was shown
        buy = req.side is Side.BUY
        px = float(self.book.ask[i] if buy else self.book.bid[i])
        shown = float(self.book.ask_size[i] if buy else self.book.bid_size[i])
        if not px > 0 or shown <= 0:
            return
        market = req.order_type is OrderType.MARKET
        if not market and not _limit_ok(req, px):
            return
        spread = float(self.book.ask[i] - self.book.bid[i])
        for take in self.liquidity.take(i, buy, w.order.remaining_qty, px, shown, spread, market):
            if not market and not _limit_ok(req, take.price):
                break
            self._fill(coid, w, take.qty, take.price, now_ns)
            if coid not in self._working:
                break

    def _fill(self, coid: str, w: _Working, qty: float, px: float, now_ns: int) -> None:
        o = w.order
        filled = o.filled_qty + qty
        avg = ((o.avg_fill_price or 0.0) * o.filled_qty + px * qty) / filled
        done = filled >= o.request.qty - 1e-9
        status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        o = msgspec.structs.replace(
            o, filled_qty=filled, avg_fill_price=avg, status=status, updated_ns=now_ns
        )
        self.orders[coid] = o
        self._exec_seq += 1
        fill = Fill(
            now_ns,
            coid,
            o.broker_order_id,
            o.symbol,
            o.request.side,
            qty,
            px,
            f"{self.id_prefix}-e{self._exec_seq}",
            self.costs.fill_fees(o.request.side, qty, px),
        )
        position = self.ledger.apply(fill)
        self.fills.append(fill)
        if self._store is not None:
            self._store.save_fill(fill, o)
        if done:
            del self._working[coid]
        else:
            w.order = o
        self._on_order(o)
        self._on_fill(fill, position)

    def _finish(self, coid: str, status: OrderStatus) -> Order:
        now = self.clock.now_ns()
        o = self.orders[coid].with_status(status, now)
        self.orders[coid] = o
        self._working.pop(coid, None)
        if self._store is not None:
            self._store.save_order(o)
        self._on_order(o)
        return o

    def _load(self, store: PaperStore) -> None:
        self.orders = store.load_orders()
        self._seq = len(self.orders)
        for f in store.load_fills():
            self.ledger.apply(f)
            self.fills.append(f)
        self._exec_seq = len(self.fills)
        self.duplicate_submits = store.duplicates()
        for coid in store.open_ids():
            o = self.orders[coid]
            self._working[coid] = _Working(o, o.submitted_ns + self.latency_ns)


def _limit_ok(req: OrderRequest, px: float) -> bool:
    assert req.limit_price is not None
    tol = PRICE_EPS * max(1.0, req.limit_price)
    return px <= req.limit_price + tol if req.side is Side.BUY else px >= req.limit_price - tol
