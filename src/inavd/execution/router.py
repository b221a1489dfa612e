"""The execution engine: intents → orders through gates, the state machine and the journal.

Position targets are kept per strategy and summed per symbol: an intent moves only its own
strategy's share of a symbol (its fills plus its working orders), so two signals can share a fund;
what is held and working, per symbol and per strategy, is `holdings.py`'s. The order delta gets a
deterministic client order id. Every order, including each iceberg child, passes the built-in
checks (reconciled, not stopping, MOC cutoff) and then every function in `gates` right before it
is sent. The order row is committed to the journal *before* the submit leaves the process
(write-ahead), so a crash can never leave an order the journal does not know about; a submit
whose outcome is unknown is resolved by looking the client order id up, never by sending it again.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec
import structlog

from inavd.brokers.base import Broker
from inavd.bus import Bus
from inavd.calendar import Session
from inavd.clock import Clock
from inavd.costs import CostModel
from inavd.domain.events import (
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    OrderUpdated,
    SignalEmitted,
)
from inavd.domain.intents import Intent
from inavd.domain.orders import Fill, Order, OrderRequest, OrderStatus, Side, TimeInForce
from inavd.domain.units import NS_PER_S
from inavd.errors import BrokerError, FatalBrokerError, OrderRejected, UnknownOutcome
from inavd.execution.algos.iceberg import LOST, IcebergAlgo, Parent
from inavd.execution.algos.moc import MocPlanner
from inavd.execution.config import ExecutionSettings
from inavd.execution.events import ReconciliationDiff
from inavd.execution.fsm import OrderStateMachine
from inavd.execution.gateway import BrokerGateway
from inavd.execution.holdings import Holdings
from inavd.execution.ids import client_order_id
from inavd.execution.journal import Journal
from inavd.execution.positions import PositionView
from inavd.execution.ratelimit import Backoff, RateLimiter

if TYPE_CHECKING:
    from inavd.book.quote_book import QuoteBook

log = structlog.get_logger(__name__)

Gate = Callable[[OrderRequest], tuple[str, str] | None]  # → (gate, reason) to deny
__all__ = ["Gate", "OrderRouter", "client_order_id"]
RECONCILE_RETRY_NS = 5 * NS_PER_S


class RouterStats(msgspec.Struct):
    orders: int = 0
    rejected: int = 0
    denied: int = 0
    lost: int = 0
    duplicate_fills: int = 0
    refused_fills: int = 0


class OrderRouter:
    def __init__(
        self,
        run_id: str,
        broker: Broker,
        bus: Bus,
        clock: Clock,
        gates: Sequence[Gate] = (),
        min_qty: float = 1.0,
        *,
        settings: ExecutionSettings | None = None,
        journal: Journal | None = None,
        book: QuoteBook | None = None,
        session: Session | None = None,
    ) -> None:
        self.run_id = run_id
        self.broker = broker
        self.bus = bus
        self.clock = clock
        self.gates = list(gates)
        self.min_qty = min_qty
        self.cfg = settings or ExecutionSettings()
        self.journal = journal
        self.gateway = _gateway(broker, self.cfg)
        self.fsm = OrderStateMachine()
        self.icebergs = IcebergAlgo(self.cfg.iceberg, book, journal, run_id)
        self.moc = MocPlanner(self.cfg.moc, session)
        self.holdings = Holdings(self.icebergs)
        # the same objects, under the names the gates, reconciliation and ops read
        self.ledger, self.open = self.holdings.ledger, self.holdings.open
        self.strategy_of, self.by_strategy = self.holdings.strategy_of, self.holdings.by_strategy
        self.stats = RouterStats()
        self.ready = True  # False until start-up reconciliation has succeeded
        self.stopping = False
        self._seq = 0
        self._exec_ids: set[str] = set()
        self._tx = False  # a journal transaction opened by `handle`, committed by `_flush`
        self._next_reconcile_ns = 0
        # set by the app: `reconciler(startup=...)` repairs against the broker
        self.reconciler: Callable[..., Awaitable[object]] | None = None
        # set by the app: the broker refused us for good (401/403) — halt trading with the reason
        self.on_fatal: Callable[[str], None] = lambda _why: None
        # fees for fills that arrive without them (a live broker's trade updates carry none)
        self.costs: CostModel | None = None

    # ------------------------------------------------------------------ broker callbacks
    def on_order(self, order: Order) -> bool:
        """A status update from the broker; illegal transitions are refused (returns False)."""
        if not self.fsm.apply(order.request.client_order_id, order.status):
            return False
        self.holdings.track(order)
        now = self.clock.now_ns()  # one reading: the update's time, for the algo and the event
        if self.icebergs.by_child:  # only an iceberg's child concerns the algo
            self.icebergs.on_child_order(order, now)
        self.bus.publish(OrderUpdated(now, order))
        return True

    def on_fill(self, fill: Fill, position: float) -> bool:
        if fill.execution_id in self._exec_ids:  # redelivered: fills are booked exactly once
            self.stats.duplicate_fills += 1
            return False
        if not _fill_is_sane(fill):  # a NaN price would poison every P&L number after it
            self.stats.refused_fills += 1
            detail = f"refused fill {fill.execution_id}: qty {fill.qty} price {fill.price}"
            log.error("fill refused", detail=detail)
            self.bus.publish(
                ReconciliationDiff(
                    self.clock.now_ns(), "refused_fill", fill.symbol, fill.client_order_id, detail
                )
            )
            return False
        if self.costs is not None and fill.fee_usd == 0.0:  # the venue did not say: estimate
            fill = msgspec.structs.replace(
                fill, fee_usd=self.costs.fill_fees(fill.side, fill.qty, fill.price)
            )
        self._exec_ids.add(fill.execution_id)
        self.holdings.book(fill)
        self.icebergs.on_child_fill(fill)
        self.bus.publish(OrderFilled(fill.ts_ns, fill, position))
        return True

    # ------------------------------------------------------------------ positions (holdings.py)
    def expected_position(self, symbol: str) -> float:
        return self.holdings.expected_position(symbol)

    def expected_positions(self, universe: Mapping[str, int]) -> PositionView:
        return self.holdings.expected_positions(universe)

    def strategy_positions(self) -> dict[str, dict[str, float]]:
        return self.holdings.strategy_positions()

    def own_position(self, strategy: str, symbol: str) -> float:
        return self.holdings.own_position(strategy, symbol)

    # ------------------------------------------------------------------ intents
    async def handle(self, intent: Intent) -> Order | None:
        """One intent, read at one clock reading; in one coroutine (no frame per step)."""
        if self.stopping:
            return None
        # the signal row rides in the same commit as the order row (one commit fewer per order);
        # `_flush` commits before anything reaches the broker
        if self.journal is not None and not self._tx:
            self.journal.begin()
            self._tx = True
        try:
            now = self.clock.now_ns()
            strategy, symbol = intent.strategy, intent.symbol
            self.bus.publish(SignalEmitted(now, strategy, symbol, intent.target_qty, intent.reason))
            # (the flags first: most intents come before any exit and with icebergs off)
            if self.moc.exited and self.moc.blocks(intent, self.by_strategy):
                return None  # the strategy has exited at the close: its auction orders stand
            sent_at = now
            if (self.open or self.icebergs.live) and await self._cancel_opposing(intent, now):
                sent_at = self.clock.now_ns()  # the cancel waited for the broker: gate after it
            delta = intent.target_qty - self.holdings.own_position(strategy, symbol)
            qty = math.floor(abs(delta) + 1e-9)
            if qty < self.min_qty:
                return None
            self._seq = seq = self._seq + 1
            req = OrderRequest(
                client_order_id(self.run_id, strategy, symbol, seq),
                symbol,
                Side.BUY if delta > 0 else Side.SELL,
                float(qty),
                intent.order_type,
                intent.time_in_force,
                intent.limit_price,
                strategy,
                intent.reason,
            )
            if self.icebergs.cfg.enabled and self.icebergs.wants(req):
                if self._denied(req, now) is None:
                    self._flush()
                    parent = self.icebergs.open_parent(req, seq, now)
                    self.strategy_of[parent.parent_id] = strategy
                    await self.icebergs.step(self, now)
                return None
            return await self._send(req, seq, None, sent_at)
        finally:
            if self._tx:
                self._flush()

    def _flush(self) -> None:
        if self._tx and self.journal is not None:
            self._tx = False
            self.journal.commit()

    def _denied(self, req: OrderRequest, now: int) -> tuple[str, str] | None:
        denial: tuple[str, str] | None = None
        if not self.ready:
            denial = ("reconcile", "trading is gated until reconciliation succeeds")
        elif self.stopping:
            denial = ("stopping", "the daemon is stopping")
        elif req.time_in_force is TimeInForce.CLS:  # the cutoff concerns auction orders only
            denial = self.moc.gate(req, now)
        for gate in self.gates:
            if denial is not None:
                break
            denial = gate(req)
        if denial is not None:
            self._deny(req, denial, now)
        return denial

    def _deny(self, req: OrderRequest, denial: tuple[str, str], now: int) -> None:
        self.stats.denied += 1
        self.bus.publish(OrderDenied(now, denial[0], denial[1], req))

    async def _send(
        self, req: OrderRequest, seq: int, parent_id: str | None, now: int | None = None
    ) -> Order | None:
        """Gate, journal (write-ahead) and submit one order; `now`: the caller's clock reading."""
        if now is None:
            now = self.clock.now_ns()
        if self._denied(req, now) is not None:
            return None
        coid = req.client_order_id
        self.fsm.start(coid)
        self.strategy_of[coid] = req.strategy
        if self.journal is not None:
            with self.journal.transaction():  # durable before the submit leaves the process
                self.journal.lineage[coid] = (seq, parent_id)  # the recorder's INSERT takes it
                self.bus.publish(OrderSubmitted(now, req))
                if self.journal.lineage.pop(coid, None) is not None:  # no recorder attached
                    self.journal.execute(
                        "UPDATE orders SET seq=?, parent_id=? WHERE client_order_id=?",
                        (seq, parent_id, coid),
                    )
            self._flush()
        else:
            self.bus.publish(OrderSubmitted(now, req))
        self.stats.orders += 1
        try:
            order = await self.gateway.submit(req)
        except OrderRejected as exc:
            self.stats.rejected += 1
            if self.fsm.status.get(coid) is OrderStatus.PENDING_NEW:  # the broker did not say
                self.on_order(Order(req, "", OrderStatus.REJECTED, reject_reason=str(exc)))
            log.warning("order rejected", client_order_id=coid, reason=str(exc))
            return None
        except FatalBrokerError as exc:  # not accepted, and no later order would be either
            self.stats.rejected += 1
            self.on_order(Order(req, "", OrderStatus.REJECTED, reject_reason=str(exc)))
            self.on_fatal(str(exc))
            return None
        except (UnknownOutcome, BrokerError) as exc:
            self._lost(req, str(exc))
            return None
        if self.fsm.status.get(coid) is OrderStatus.PENDING_NEW:  # no push yet: the reply is news
            self.on_order(order)
        return order

    def _lost(self, req: OrderRequest, why: str) -> None:
        """Looked up and not found: the broker never got it. Recorded, never resent."""
        self.stats.lost += 1
        log.error("order outcome resolved as lost", client_order_id=req.client_order_id, why=why)
        now = self.clock.now_ns()
        self.on_order(Order(req, "", OrderStatus.REJECTED, 0.0, None, now, now, f"{LOST} {why}"))

    async def submit_child(self, req: OrderRequest, parent: Parent) -> Order | None:
        return await self._send(req, parent.slices, parent.parent_id)

    async def cancel_order(self, coid: str) -> None:
        self._flush()
        # already done: its fill or final status arrives through the listener
        try:
            order = await self.gateway.cancel(coid)
        except OrderRejected:
            return
        except FatalBrokerError as exc:
            self.on_fatal(str(exc))
            return
        if order.status.is_terminal and self.fsm.status.get(coid, order.status).is_open:
            self.on_order(order)

    async def _cancel_opposing(self, intent: Intent, now: int) -> bool:
        """Cancel the strategy's own working orders that point away from its new target.
        Returns whether anything was canceled (the broker was awaited)."""
        canceled = False
        sym, strategy = intent.symbol, intent.strategy
        want_up = intent.target_qty > self.by_strategy.get((strategy, sym), 0.0)
        for p in self.icebergs.working():
            if p.symbol == sym and p.strategy == strategy and (p.side is Side.BUY) != want_up:
                await self.icebergs.cancel(p, self, now)
                canceled = True
        for o in list(self.open.values()):
            r = o.request
            if r.symbol == sym and r.strategy == strategy and (r.side is Side.BUY) != want_up:
                await self.cancel_order(r.client_order_id)
                canceled = True
        return canceled

    # ------------------------------------------------------------------ the run loop's hooks
    async def pump(self) -> None:
        """After each batch: exit-at-close, iceberg slices and re-pegs, periodic reconciliation."""
        if self.stopping:
            return
        now = self.clock.now_ns()
        if not self.ready:  # start-up reconciliation failed: retry, trading stays gated
            if self.reconciler is not None and now >= self._next_reconcile_ns:
                self._next_reconcile_ns = now + RECONCILE_RETRY_NS
                await self.reconciler(startup=True)
            return
        if self.moc.exit_due(now):
            for intent in self.moc.exit_intents(self.by_strategy):
                await self.handle(intent)
        await self.icebergs.step(self, now)
        interval = int(self.cfg.reconcile_interval_s * NS_PER_S)
        if self.reconciler is not None and interval and now >= self._next_reconcile_ns:
            if self._next_reconcile_ns:
                await self.reconciler()
            self._next_reconcile_ns = now + interval

    async def shutdown(self, policy: str | None = None) -> None:
        """Graceful stop: no new orders; working iceberg children canceled (policy) or left."""
        self.stopping = True
        policy = policy or self.cfg.shutdown_policy
        now = self.clock.now_ns()
        for p in self.icebergs.working():
            if policy == "cancel":
                await self.icebergs.cancel(p, self, now)
            else:
                log.warning("iceberg left working at stop", parent=p.parent_id, child=p.child)
        if self.journal is not None:
            with contextlib.suppress(Exception):  # the journal may already be closed
                self.journal.flush()

    def restore_seq(self) -> None:
        """Continue this run's order sequence after a restart (ids stay unique)."""
        if self.journal is None:
            return
        row = self.journal.query(
            "SELECT max(s) FROM (SELECT max(seq) s FROM orders WHERE run_id=? AND parent_id IS NULL"
            " UNION ALL SELECT max(seq) FROM algo_parents WHERE run_id=?)",
            (self.run_id, self.run_id),
        )
        self._seq = int(row[0][0] or 0)


def _fill_is_sane(fill: Fill) -> bool:
    return (
        math.isfinite(fill.price)
        and fill.price > 0
        and math.isfinite(fill.qty)
        and fill.qty > 0
        and math.isfinite(fill.fee_usd)
    )


def _gateway(broker: Broker, cfg: ExecutionSettings) -> BrokerGateway:
    rl = cfg.rate_limit
    # an adapter that holds the shared limiter (`limiter`) takes a slot per HTTP request itself
    paced = getattr(broker, "limiter", None) is not None
    limited = not paced and (broker.name != "paper" or rl.apply_to_paper)
    limiter = RateLimiter(rl.per_minute, rl.headroom) if limited else None
    backoff = Backoff(rl.backoff_base_ms / 1000, rl.backoff_max_ms / 1000)
    return BrokerGateway(
        broker,
        limiter,
        backoff,
        # the in-process venue answers synchronously: no timer task on the hot path
        timeout_s=None if broker.name == "paper" else cfg.call_timeout_s,
        max_attempts=rl.max_attempts,
        lookup_attempts=cfg.lookup_attempts,
    )
