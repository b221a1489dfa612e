"""Market-on-close / limit-on-close: closing-auction orders (time in force `cls`).

Never sent at or after the cutoff (`Session.moc_cutoff_ns`: 15:50 ET, earlier on early-close days,
since the cutoff is measured back from that day's close). The "exit at close" helper flattens the
positions of chosen strategies (e.g. the MOC-flow signal) in the auction, once, shortly before the
cutoff, and from then on refuses intents of those strategies that would add exposure.
"""

from __future__ import annotations

from collections.abc import Mapping

from inavd.calendar import Session
from inavd.clock import ns_to_ny
from inavd.domain.intents import Intent
from inavd.domain.orders import OrderRequest, OrderType, TimeInForce
from inavd.domain.units import NS_PER_S, qty_is_zero
from inavd.execution.config import MocSettings


def moc_intent(strategy: str, symbol: str, target_qty: float, reason: str) -> Intent:
    return Intent(strategy, symbol, target_qty, reason, OrderType.MARKET, TimeInForce.CLS)


def loc_intent(strategy: str, symbol: str, target_qty: float, limit: float, reason: str) -> Intent:
    return Intent(strategy, symbol, target_qty, reason, OrderType.LIMIT, TimeInForce.CLS, limit)


class MocPlanner:
    def __init__(self, cfg: MocSettings, session: Session | None) -> None:
        self.cfg = cfg
        self.session = session
        self.exit_strategies = frozenset(cfg.exit_at_close)
        self.exited = False

    @property
    def cutoff_ns(self) -> int | None:
        if self.session is None:
            return None
        return self.session.moc_cutoff_ns(self.cfg.cutoff_min_before_close)

    def gate(self, req: OrderRequest, now_ns: int) -> tuple[str, str] | None:
        if req.time_in_force is not TimeInForce.CLS:
            return None  # asked first: most orders are not auction orders (no cutoff computed)
        cutoff = self.cutoff_ns
        if cutoff is None or now_ns < cutoff:
            return None
        at = ns_to_ny(cutoff).strftime("%H:%M")
        return "moc_cutoff", f"closing-auction orders are accepted until {at} ET"

    def blocks(self, intent: Intent, by_strategy: Mapping[tuple[str, str], float]) -> bool:
        """After the exit: no new exposure for the exiting strategies (what each holds:
        `by_strategy`, read only then)."""
        if not self.exited or intent.strategy not in self.exit_strategies:
            return False
        held = by_strategy.get((intent.strategy, intent.symbol), 0.0)
        return abs(intent.target_qty) > abs(held) + 1e-9

    def exit_due(self, now_ns: int) -> bool:
        cutoff = self.cutoff_ns
        if self.exited or not self.exit_strategies or cutoff is None:
            return False
        return cutoff - int(self.cfg.exit_lead_s * NS_PER_S) <= now_ns < cutoff

    def exit_intents(self, by_strategy: Mapping[tuple[str, str], float]) -> list[Intent]:
        """One MOC intent per (strategy, symbol) with a position: the strategy's target is 0
        (targets are per strategy, so what other strategies hold stays)."""
        self.exited = True
        out = []
        for (strategy, symbol), qty in sorted(by_strategy.items()):
            if strategy in self.exit_strategies and not qty_is_zero(qty):
                out.append(moc_intent(strategy, symbol, 0.0, "exit at close"))
        return out
