"""The trading state: ACTIVE / REDUCING (only exposure-reducing orders) / HALTED (nothing new).

One controller per app; the daily loss limit, the operator (API, ops endpoint, MQTT control) and
config all change it through `set`, and every change is an event on the bus.
"""

from __future__ import annotations

import structlog

from inavd.bus import Bus
from inavd.clock import Clock
from inavd.domain.events import TradingState, TradingStateChanged

log = structlog.get_logger(__name__)


class TradingStateController:
    def __init__(self, bus: Bus, clock: Clock, initial: TradingState = TradingState.ACTIVE) -> None:
        self.bus = bus
        self.clock = clock
        self.state = initial
        self.reason = "start"

    def set(self, state: TradingState, reason: str) -> bool:
        """Change the state; returns False when it already was `state`."""
        if state is self.state:
            return False
        log.warning("trading state", old=self.state.value, new=state.value, reason=reason)
        self.state, self.reason = state, reason
        self.bus.publish(TradingStateChanged(self.clock.now_ns(), state, reason))
        return True

    @property
    def halted(self) -> bool:
        return self.state is TradingState.HALTED
