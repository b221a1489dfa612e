"""Optional broker capabilities: the venue's own rules about assets and the account.

A broker that can tell which symbols it lends and what its account rules are implements these
protocols (checked with `isinstance`, as `FillHistory` is); the risk gates read the answers at the
start of the day (`risk/venue_rules.py`). A broker that implements neither leaves the gates on the
config's `risk.shortable` list and without the pattern-day-trader rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import msgspec

# FINRA's pattern-day-trader rule as Alpaca enforces it: below this equity at the prior close, a
# fourth day trade in five sessions is refused (the account would be flagged)
PDT_MIN_EQUITY_USD = 25_000.0
PDT_MAX_DAY_TRADES = 3


class AssetRules(msgspec.Struct, frozen=True):
    """What the venue allows for one symbol (Alpaca's asset object)."""

    symbol: str
    tradable: bool = True
    shortable: bool = False
    easy_to_borrow: bool = False  # hard to borrow: the venue may recall it; never shorted
    fractionable: bool = False


class AccountRules(msgspec.Struct, frozen=True):
    """The account's standing and its pattern-day-trader inputs (Alpaca's account object).

    `daytrade_count` and `pattern_day_trader` are None when the venue does not report them: then the
    rule is not applied (the venue has no such rule, or has dropped it)."""

    status: str = "ACTIVE"
    trading_blocked: bool = False
    account_blocked: bool = False
    shorting_enabled: bool = True
    equity_usd: float = math.nan
    last_equity_usd: float = math.nan  # at the prior close: what the rule is judged on
    pattern_day_trader: bool | None = None
    daytrade_count: int | None = None  # day trades in the last five sessions, as the venue counts

    @property
    def pdt_equity_usd(self) -> float:
        """The equity the rule compares with 25,000 USD (nan: the rule does not apply)."""
        if self.daytrade_count is None and self.pattern_day_trader is None:
            return math.nan
        return self.last_equity_usd if math.isfinite(self.last_equity_usd) else self.equity_usd


@runtime_checkable
class AssetRulesSource(Protocol):
    """Optional broker capability: per-symbol tradability, shortability and borrow."""

    async def asset_rules(self, symbols: Sequence[str]) -> dict[str, AssetRules]: ...


@runtime_checkable
class AccountRulesSource(Protocol):
    """Optional broker capability: account standing and pattern-day-trader inputs."""

    async def account_rules(self) -> AccountRules: ...


class ConfiguredRules(msgspec.Struct, frozen=True):
    """Venue rules a simulated venue takes from config (`[broker]`, `risk.shortable`)."""

    shortable: frozenset[str] = frozenset()
    hard_to_borrow: frozenset[str] = frozenset()
    pattern_day_trader: bool = False
    daytrade_count: int = 0

    def assets(self, symbols: Sequence[str]) -> dict[str, AssetRules]:
        return {
            s: AssetRules(s, True, s in self.shortable, s not in self.hard_to_borrow, True)
            for s in symbols
        }

    def account(self, equity_usd: float, last_equity_usd: float) -> AccountRules:
        return AccountRules(
            equity_usd=equity_usd,
            last_equity_usd=last_equity_usd,
            pattern_day_trader=self.pattern_day_trader,
            daytrade_count=self.daytrade_count,
        )
