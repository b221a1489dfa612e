"""The venue's rules as the gates see them: per-symbol borrow, account standing, day trades.

Loaded once at the start of the day from a broker that implements the optional capabilities
(`brokers/capabilities.py`); until then, or for a broker without them, shortability comes from the
config and the pattern-day-trader rule is off. The day trades this daemon creates are counted here,
the way Alpaca counts them: an order that closes shares opened today is a day trade, working orders
included (a pending buy and sell pair may fill in either order, so the pair already counts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import structlog

from inavd.brokers.capabilities import (
    AccountRules,
    AccountRulesSource,
    AssetRules,
    AssetRulesSource,
)
from inavd.domain.units import QTY_EPS

log = structlog.get_logger(__name__)


class VenueRules:
    def __init__(self, configured_shortable: Callable[[str], bool]) -> None:
        self.configured_shortable = configured_shortable
        self.assets: dict[str, AssetRules] | None = None  # None: not from the broker
        self.account: AccountRules | None = None
        self.error = ""
        # read for every order, so kept as plain values: per symbol (shortable, easy to borrow,
        # fractionable), filled on first use; the account's pattern-day-trader inputs
        self.flags: dict[str, tuple[bool, bool, bool]] = {}
        self.pdt_equity_usd = math.nan
        self.pdt_flagged = False
        self.prior_day_trades = 0

    async def load(self, broker: object, symbols: Sequence[str]) -> None:
        """Ask the broker for its rules. A broker that has the capability but fails to answer
        leaves every short refused (fail closed); the account rule stays off (the venue still
        enforces it) and the error is logged."""
        if isinstance(broker, AssetRulesSource):
            try:
                self.assets = await broker.asset_rules(symbols)
            except Exception as exc:
                self.assets, self.error = {}, f"asset rules: {exc}"
                log.error("venue asset rules unavailable: no short sales today", error=str(exc))
            missing = sorted(set(symbols) - set(self.assets))
            if missing:
                log.warning("symbols unknown to the venue: not shortable", symbols=missing)
        if isinstance(broker, AccountRulesSource):
            try:
                self.account = await broker.account_rules()
            except Exception as exc:
                self.error = f"account rules: {exc}"
                log.error("venue account rules unavailable", error=str(exc))
        self.flags.clear()
        if self.account is not None:
            self.pdt_equity_usd = self.account.pdt_equity_usd
            self.pdt_flagged = bool(self.account.pattern_day_trader)
            self.prior_day_trades = self.account.daytrade_count or 0
        assets = (self.assets or {}).values()
        htb = sorted(a.symbol for a in assets if a.shortable and not a.easy_to_borrow)
        log.info("venue rules", hard_to_borrow=htb, account=self.account)

    def flags_of(self, sym: str) -> tuple[bool, bool, bool]:
        f = (self.shortable(sym), self.easy_to_borrow(sym), self.fractionable(sym))
        self.flags[sym] = f
        return f

    def lends(self, sym: str) -> bool:
        """Shortable and easy to borrow: a short the gates would let through."""
        shortable, easy, _ = self.flags.get(sym) or self.flags_of(sym)
        return shortable and easy

    def shortable(self, sym: str) -> bool:
        if self.assets is None:
            return self.configured_shortable(sym)
        a = self.assets.get(sym)
        return a is not None and a.tradable and a.shortable and self._shorting

    def easy_to_borrow(self, sym: str) -> bool:
        if self.assets is None:
            return True  # the config's list says what the simulated venue lends
        a = self.assets.get(sym)
        return a is not None and a.easy_to_borrow

    def fractionable(self, sym: str) -> bool:
        if self.assets is None:
            return True
        a = self.assets.get(sym)
        return a is not None and a.fractionable

    @property
    def _shorting(self) -> bool:
        return self.account is None or self.account.shorting_enabled


class DayTrades:
    """Day trades this daemon creates today, by order (working orders count at once)."""

    def __init__(self) -> None:
        self.count = 0
        self.opened_long: dict[str, float] = {}  # shares bought today to open, not yet closed
        self.opened_short: dict[str, float] = {}

    def would_day_trade(self, sym: str, delta: float, position: float) -> bool:
        """True when an order of `delta` shares closes shares opened today."""
        if delta < 0 and position > QTY_EPS:
            return self.opened_long.get(sym, 0.0) > QTY_EPS
        if delta > 0 and position < -QTY_EPS:
            return self.opened_short.get(sym, 0.0) > QTY_EPS
        return False

    def seed(self, fills: Iterable[tuple[str, str, float]], held: Mapping[str, float]) -> None:
        """After a restart: today's earlier fills (symbol, side, qty; oldest first) and the
        positions now. Rebuilds what was opened today, so that closing it still counts; the day
        trades already made are in the venue's own count, so this process's count stays 0."""
        rows = [(s, qty if side == "buy" else -qty) for s, side, qty in fills]
        position = dict(held)
        for sym, delta in rows:  # back to the position before today's first fill
            position[sym] = position.get(sym, 0.0) - delta
        for sym, delta in rows:
            self.record(sym, delta, position[sym])
            position[sym] += delta
        self.count = 0

    def record(self, sym: str, delta: float, position: float) -> None:
        """An order of `delta` shares was sent with `position` (incl. working orders) before it."""
        if self.would_day_trade(sym, delta, position):
            self.count += 1
        closing = min(abs(delta), abs(position)) if (delta > 0) != (position > 0) else 0.0
        opening = abs(delta) - closing
        longs, shorts = self.opened_long, self.opened_short
        opened, other = (longs, shorts) if delta > 0 else (shorts, longs)
        if closing > QTY_EPS and sym in other:  # today's shares close first: the day trade
            left = other[sym] - closing
            if left > QTY_EPS:
                other[sym] = left
            else:
                del other[sym]  # empty dicts: the gates skip the day-trade test
        if opening > QTY_EPS:
            opened[sym] = opened.get(sym, 0.0) + opening
