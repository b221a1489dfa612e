"""From intents to orders: position targets become order deltas with deterministic client ids.

The order row is committed to the journal *before* the submit leaves the process (write-ahead), so
a crash can never leave an order the journal does not know about.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from inavd.brokers.base import Broker
from inavd.bus import Bus
from inavd.clock import Clock
from inavd.domain.events import OrderDenied, OrderSubmitted, SignalEmitted
from inavd.domain.intents import Intent
from inavd.domain.ledger import Ledger
from inavd.domain.orders import Fill, Order, OrderRequest, Side
from inavd.errors import OrderRejected

log = structlog.get_logger(__name__)

Gate = Callable[[OrderRequest], tuple[str, str] | None]  # → (gate, reason) to deny


def client_order_id(run_id: str, strategy: str, symbol: str, seq: int) -> str:
    """Deterministic and unique per run: `<run>-<strategy>-<symbol>-<seq>` (≤ 48 characters)."""
    coid = f"{run_id}-{strategy[:8]}-{symbol[:8]}-{seq}"
    if len(coid) > 48:
        raise ValueError(f"client order id too long: {coid}")
    return coid


@dataclass
class RouterStats:
    orders: int = 0
    rejected: int = 0
    denied: int = 0


class OrderRouter:
    def __init__(
        self,
        run_id: str,
        broker: Broker,
        bus: Bus,
        clock: Clock,
        gates: Sequence[Gate] = (),
        min_qty: float = 1.0,
    ) -> None:
        self.run_id = run_id
        self.broker = broker
        self.bus = bus
        self.clock = clock
        self.gates = list(gates)
        self.min_qty = min_qty
        self.ledger = Ledger()
        self.open: dict[str, Order] = {}
        self.stats = RouterStats()
        self._seq = 0

    # ------------------------------------------------------------------ broker callbacks
    def on_order(self, order: Order) -> None:
        if order.status.is_terminal:
            self.open.pop(order.client_order_id, None)
        else:
            self.open[order.client_order_id] = order

    def on_fill(self, fill: Fill, position: float) -> None:
        self.ledger.apply(fill)

    # ------------------------------------------------------------------ intents
    def working_qty(self, symbol: str) -> float:
        return sum(
            o.request.side.sign * o.remaining_qty for o in self.open.values() if o.symbol == symbol
        )

    def expected_position(self, symbol: str) -> float:
        return self.ledger.position(symbol) + self.working_qty(symbol)

    async def handle(self, intent: Intent) -> Order | None:
        now = self.clock.now_ns()
        self.bus.publish(
            SignalEmitted(now, intent.strategy, intent.symbol, intent.target_qty, intent.reason)
        )
        await self._cancel_opposing(intent)
        delta = intent.target_qty - self.expected_position(intent.symbol)
        qty = math.floor(abs(delta) + 1e-9)
        if qty < self.min_qty:
            return None
        self._seq += 1
        req = OrderRequest(
            client_order_id=client_order_id(self.run_id, intent.strategy, intent.symbol, self._seq),
            symbol=intent.symbol,
            side=Side.BUY if delta > 0 else Side.SELL,
            qty=float(qty),
            order_type=intent.order_type,
            time_in_force=intent.time_in_force,
            limit_price=intent.limit_price,
            strategy=intent.strategy,
            reason=intent.reason,
        )
        for gate in self.gates:
            denial = gate(req)
            if denial is not None:
                self.stats.denied += 1
                self.bus.publish(OrderDenied(now, denial[0], denial[1], req))
                return None
        self.bus.publish(OrderSubmitted(now, req))  # journaled and committed before the submit
        self.stats.orders += 1
        try:
            return await self.broker.submit(req)
        except OrderRejected as exc:
            self.stats.rejected += 1
            log.warning("order rejected", client_order_id=req.client_order_id, reason=str(exc))
            return None

    async def _cancel_opposing(self, intent: Intent) -> None:
        held = self.ledger.position(intent.symbol)
        want_up = intent.target_qty > held
        for o in list(self.open.values()):
            if o.symbol == intent.symbol and (o.request.side is Side.BUY) != want_up:
                # already done: its fill or final status arrives through the listener
                with contextlib.suppress(OrderRejected):
                    await self.broker.cancel(o.client_order_id)
