"""The narrow ports between the trading core and its side channels.

The ops endpoint, MQTT and the process lifecycle see the daemon only through `DaemonView` (what
they read) and act only through `OperatorControl` (implemented in the execution layer by
`inavd.execution.operator.OperatorDesk`). `App` satisfies `DaemonView` structurally and is the
composition root; nothing here imports it, so the side channels never form an import circle with
the object that builds them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from inavd.book.quote_book import QuoteBook
from inavd.brokers.base import Broker
from inavd.bus import Bus
from inavd.calendar import Session
from inavd.clock import Clock
from inavd.core import Core
from inavd.domain.events import TradingState
from inavd.execution.journal import Journal
from inavd.execution.router import OrderRouter
from inavd.feeds.base import QuoteFeed
from inavd.risk.pipeline import RiskGates
from inavd.risk.state import TradingStateController
from inavd.settings import Config
from inavd.summary import SummaryCollector
from inavd.supervisor import Supervisor


class OperatorControl(Protocol):
    """What an authenticated operator may do (every action rate-limited and journaled)."""

    def set_state(self, state: TradingState, reason: str) -> bool: ...

    async def cancel_all(self, reason: str) -> int: ...

    async def flatten(self, reason: str) -> int: ...


class Service(Protocol):
    """A side channel or background job (MQTT, ops endpoint): started first, stopped last."""

    async def start(self, daemon: DaemonView) -> None: ...

    async def stop(self) -> None: ...


class DaemonView(Protocol):
    """The running daemon as the side channels read it (attributes are read-only here)."""

    @property
    def run_id(self) -> str: ...
    @property
    def day(self) -> date: ...
    @property
    def cfg(self) -> Config: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def session(self) -> Session: ...
    @property
    def bus(self) -> Bus: ...
    @property
    def core(self) -> Core: ...
    @property
    def book(self) -> QuoteBook: ...
    @property
    def feed(self) -> QuoteFeed: ...
    @property
    def broker(self) -> Broker: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def router(self) -> OrderRouter: ...
    @property
    def gates(self) -> RiskGates: ...
    @property
    def trading_state(self) -> TradingStateController: ...
    @property
    def operator(self) -> OperatorControl: ...
    @property
    def collector(self) -> SummaryCollector: ...
    @property
    def supervisor(self) -> Supervisor: ...
    @property
    def services(self) -> Sequence[Service]: ...
    @property
    def excluded_funds(self) -> Sequence[str]: ...
    @property
    def stop_event(self) -> asyncio.Event: ...
    @property
    def linger_s(self) -> float: ...

    def request_stop(self) -> None: ...

    def reference_doc(self) -> dict[str, Any]: ...  # corporate actions and NAV sources applied


class DaemonHost(DaemonView, Protocol):
    """What the process lifecycle needs beyond the view: to flush the history at shutdown."""

    def close_history(self) -> None: ...
