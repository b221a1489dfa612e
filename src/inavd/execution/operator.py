"""The operator's hand on the execution layer: the one implementation of `OperatorControl`.

Every action goes the way a strategy's would: state changes through the trading-state controller
(journaled, an operator's authority), cancels through the router and its broker gateway (rate
limited, retried, the outcome journaled by the recorder), flattening as intents through the
router and the risk gates. The side channels (ops endpoint, MQTT control) hold only this port.
"""

from __future__ import annotations

import structlog

from inavd.domain.events import TradingState
from inavd.domain.intents import Intent
from inavd.execution.router import OrderRouter
from inavd.risk.state import TradingStateController

log = structlog.get_logger(__name__)
OPERATOR = "operator"  # the strategy name of the operator's orders


class OperatorDesk:
    def __init__(self, router: OrderRouter, state: TradingStateController) -> None:
        self.router = router
        self.state = state

    def set_state(self, state: TradingState, reason: str) -> bool:
        """An authenticated operator's change (the only way out of HALTED)."""
        return self.state.set(state, reason, operator=True)

    async def cancel_all(self, reason: str) -> int:
        """Cancel every working order and iceberg; returns how many cancels were sent."""
        r = self.router
        now = r.clock.now_ns()
        parents = list(r.icebergs.working())
        for p in parents:
            await r.icebergs.cancel(p, r, now)
        coids = list(r.open)
        for coid in coids:
            try:
                await r.cancel_order(coid)
            except Exception as exc:  # the broker gave up on this one: keep cancelling the rest
                log.warning("operator cancel failed", client_order_id=coid, error=str(exc))
        log.warning("operator cancelled working orders", orders=len(coids), reason=reason)
        return len(parents) + len(coids)

    async def flatten(self, reason: str) -> int:
        """Reduce-only, then an order taking every held symbol's account position to zero;
        returns the intents sent. Intents are per strategy (the router trades the difference to
        the strategy's own position), so the operator's target is its own share minus the
        account's position: the operator's order offsets what every strategy holds."""
        self.set_state(TradingState.REDUCING, reason)
        r, sent = self.router, 0
        for symbol, qty in sorted(r.ledger.qty.items()):
            if abs(qty) >= 1:
                target = r.own_position(OPERATOR, symbol) - qty
                await r.handle(Intent(OPERATOR, symbol, target, reason))
                sent += 1
        return sent
