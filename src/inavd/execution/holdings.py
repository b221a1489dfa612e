"""What the account holds and has working, as the router sees it, per symbol and per strategy.

Settled shares are the ledger's; working shares are the open orders' remaining quantity plus the
icebergs' unshown quantity. Targets are per strategy, so fills are also booked per (strategy,
symbol) through the client order id → strategy map: an intent moves only its own strategy's share
of a symbol. The router changes these on broker callbacks; signals, the operator desk and the
gates read them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Protocol

from inavd.domain.ledger import Ledger
from inavd.domain.orders import TERMINAL_STATUSES, Fill, Order
from inavd.execution.algos.iceberg import Parent
from inavd.execution.positions import PositionView


class HiddenOrders(Protocol):
    """The icebergs: their unshown quantity is working too."""

    @property
    def live(self) -> Mapping[str, Parent]: ...  # the working parents, read without a copy

    def working(self) -> list[Parent]: ...


class Holdings:
    def __init__(self, hidden: HiddenOrders) -> None:
        self.ledger = Ledger()
        self.open: dict[str, Order] = {}  # client order id → the broker's latest view
        self.strategy_of: dict[str, str] = {}  # client order id (or parent id) → strategy
        self.by_strategy: dict[tuple[str, str], float] = {}  # (strategy, symbol) → filled shares
        self.hidden = hidden

    # ------------------------------------------------------------------ changes
    def track(self, order: Order) -> None:
        """An order's new status: open ones are working, terminal ones no longer are."""
        if order.status in TERMINAL_STATUSES:
            self.open.pop(order.request.client_order_id, None)
        else:
            self.open[order.request.client_order_id] = order

    def book(self, fill: Fill) -> None:
        """A fill (once, sane, with its fees): into the ledger and its strategy's share."""
        self.ledger.apply(fill)
        key = (self.strategy_of.get(fill.client_order_id, ""), fill.symbol)
        self.by_strategy[key] = self.by_strategy.get(key, 0.0) + fill.signed_qty

    # ------------------------------------------------------------------ reads
    def _working(self) -> Iterable[tuple[str, str, float]]:
        """(strategy, symbol, signed shares) of every open order and every iceberg's rest."""
        shown = (
            (o.request.strategy, o.symbol, o.request.side.sign * o.remaining_qty)
            for o in self.open.values()
        )
        hidden = ((p.strategy, p.symbol, p.side.sign * p.unshown) for p in self.hidden.working())
        return itertools.chain(shown, hidden)

    def working_qty(self, symbol: str) -> float:
        shown = sum(
            o.request.side.sign * o.remaining_qty for o in self.open.values() if o.symbol == symbol
        )
        hidden = sum(p.side.sign * p.unshown for p in self.hidden.working() if p.symbol == symbol)
        return shown + hidden

    def expected_position(self, symbol: str) -> float:
        return self.ledger.position(symbol) + self.working_qty(symbol)

    def expected_positions(self, universe: Mapping[str, int]) -> PositionView:
        """Every symbol's expected position at once (what `expected_position` gives one by one)."""
        working = ((symbol, q) for _, symbol, q in self._working())
        return PositionView(self.ledger.qty, working, universe)

    def strategy_positions(self) -> dict[str, dict[str, float]]:
        """strategy → symbol → signed shares: its fills plus its working orders."""
        out: dict[str, dict[str, float]] = {}
        for (strategy, symbol), q in self.by_strategy.items():
            if q:
                out.setdefault(strategy, {})[symbol] = q
        for strategy, symbol, q in list(self._working()):
            mine = out.setdefault(strategy, {})
            mine[symbol] = mine.get(symbol, 0.0) + q
        return out

    def own_position(self, strategy: str, symbol: str) -> float:
        """One strategy's share of a symbol, including its working orders (read on every intent:
        plain loops, no generator frames)."""
        shown = hidden = 0.0
        for o in self.open.values():
            r = o.request
            if r.symbol == symbol and r.strategy == strategy:
                shown += r.side.sign * o.remaining_qty
        for p in self.hidden.live.values():
            if p.symbol == symbol and p.strategy == strategy:
                hidden += p.side.sign * p.unshown
        return self.by_strategy.get((strategy, symbol), 0.0) + shown + hidden
