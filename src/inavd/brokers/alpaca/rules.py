"""Alpaca's asset and account objects → the venue rules the gates read (`brokers/capabilities`).

Amounts arrive as decimal strings. `pattern_day_trader` and `daytrade_count` may be missing (Alpaca
has deprecated them): then the rule is off, as it is at the venue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from inavd.brokers.capabilities import AccountRules, AssetRules


def asset_from_json(d: dict[str, Any]) -> AssetRules:
    return AssetRules(
        symbol=str(d["symbol"]),
        tradable=bool(d.get("tradable")) and d.get("status", "active") == "active",
        shortable=bool(d.get("shortable")),
        easy_to_borrow=bool(d.get("easy_to_borrow")),
        fractionable=bool(d.get("fractionable")),
    )


def assets_for(rows: Iterable[dict[str, Any]], symbols: Sequence[str]) -> dict[str, AssetRules]:
    """The universe's symbols out of the asset list (a symbol the venue lacks is left out)."""
    wanted = set(symbols)
    return {a.symbol: a for a in map(asset_from_json, rows) if a.symbol in wanted}


def _usd(value: Any) -> float:
    return math.nan if value in (None, "") else float(value)


def account_rules_from_json(d: dict[str, Any]) -> AccountRules:
    pdt, count = d.get("pattern_day_trader"), d.get("daytrade_count")
    return AccountRules(
        status=str(d.get("status", "")),
        trading_blocked=bool(d.get("trading_blocked")),
        account_blocked=bool(d.get("account_blocked")),
        shorting_enabled=bool(d.get("shorting_enabled", True)),
        equity_usd=_usd(d.get("equity")),
        last_equity_usd=_usd(d.get("last_equity")),
        pattern_day_trader=None if pdt is None else bool(pdt),
        daytrade_count=None if count is None else int(count),
    )
