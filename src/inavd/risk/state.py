"""The trading state: ACTIVE / REDUCING (only exposure-reducing orders) / HALTED (nothing new).

One controller per app; the daily loss limit, the operator (ops endpoint, MQTT control), config and
shutdown all change it through `set`, and every change is an event on the bus. Two rules make a
HALT an operator's decision to undo, never an accident's:

- leaving HALTED needs `operator=True`, which only the authenticated channels pass (the ops
  endpoint after its bearer-token check, MQTT control after its signature check);
- every durable change is written to a `StateStore` (the journal) before `set` returns, and the
  app restores the stored state at start-up, so a crash or restart comes back in the state it left.
  The halt at shutdown is not durable: it stops new orders while the process exits, and is not a
  decision to carry into the next start.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from inavd.bus import Bus
from inavd.clock import Clock
from inavd.domain.events import TradingState, TradingStateChanged

log = structlog.get_logger(__name__)

# how restrictive a state is: a restored state never loosens what config asked for
RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class StateStore(Protocol):
    def save(self, state: TradingState, reason: str) -> None: ...


class TradingStateController:
    def __init__(self, bus: Bus, clock: Clock, initial: TradingState = TradingState.ACTIVE) -> None:
        self.bus = bus
        self.clock = clock
        self.state = initial
        self.reason = "start"
        self.store: StateStore | None = None
        self.refused = 0  # attempts to leave HALTED without operator authority

    def set(
        self, state: TradingState, reason: str, *, operator: bool = False, durable: bool = True
    ) -> bool:
        """Change the state; returns False when it already was `state` or the change is refused
        (leaving HALTED without `operator`)."""
        if state is self.state:
            return False
        if self.state is TradingState.HALTED and not operator:
            self.refused += 1
            log.error("leaving HALTED needs an operator", new=state.value, reason=reason)
            return False
        log.warning("trading state", old=self.state.value, new=state.value, reason=reason)
        if durable and self.store is not None:
            self.store.save(state, reason)  # durable before anything acts on the new state
        self.state, self.reason = state, reason
        self.bus.publish(TradingStateChanged(self.clock.now_ns(), state, reason))
        return True

    def restore(self, state: TradingState, reason: str) -> bool:
        """Start-up: take the stored state when it is at least as restrictive as the current."""
        if RANK[state] <= RANK[self.state]:
            return False
        return self.set(state, f"restored: {reason}", durable=False)

    @property
    def halted(self) -> bool:
        return self.state is TradingState.HALTED
