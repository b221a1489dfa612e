"""In-process event bus.

Hot-path subscribers are called synchronously in publish order (deterministic replays). Side
channels (MQTT, ops) subscribe with `subscribe_all`: observers whose failure is logged and
counted, never raised into the publisher.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from inavd.domain.events import Event

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

log = structlog.get_logger(__name__)


class Bus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)
        self._all: list[Handler] = []
        self.handler_errors = 0

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers[event_type].append(handler)

    def subscribe_all(self, handler: Callable[[Event], None]) -> None:
        self._all.append(handler)

    def publish(self, event: Event) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(event)
        for handler in self._all:
            self._call_safely(handler, event)

    def _call_safely(self, handler: Handler, event: Event) -> None:
        # catch-all subscribers are observers: their failure must never stop trading
        try:
            handler(event)
        except Exception:
            self.handler_errors += 1
            log.exception("bus observer failed", event=type(event).__name__)
