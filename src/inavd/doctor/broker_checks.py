"""Doctor's checks of the Alpaca account over the trading REST API (alpaca-py's TradingClient,
synchronous: run in a worker thread): the keys, the account's standing, the pattern-day-trader
rule, the market clock and the borrow of the configured short symbols."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

from inavd.brokers.alpaca.errors import api_code, api_message
from inavd.brokers.alpaca.rules import account_rules_from_json, asset_from_json
from inavd.brokers.capabilities import PDT_MAX_DAY_TRADES, PDT_MIN_EQUITY_USD, AccountRules
from inavd.clock import NY
from inavd.doctor.report import Check, fail, ok, warn
from inavd.live_config import KEY_ENV, SECRET_ENV, AlpacaSettings, Credentials

T = TypeVar("T")


class Unanswered(Exception):
    """The call got no usable answer; the message says why in one line (never the keys)."""

    def __init__(self, message: str, keys_refused: bool = False) -> None:
        super().__init__(message)
        self.keys_refused = keys_refused


def client_for(creds: Credentials, s: AlpacaSettings, timeout_s: float) -> TradingClient:
    client = TradingClient(
        creds.key_id, creds.secret_key, paper=s.paper, raw_data=True,
        url_override=s.trading_url or None,
    )  # fmt: skip
    client._retry = 0  # a preflight reports a 429 instead of sleeping 3 s per retry
    session = client._session
    session.request = functools.partial(session.request, timeout=timeout_s)  # type: ignore[method-assign]
    return client


async def call(fn: Callable[..., T], *args: Any) -> T:
    try:
        return await asyncio.to_thread(fn, *args)
    except APIError as exc:
        status, code = exc.status_code or 0, api_code(exc)
        if status in (401, 403) and code is None:
            why = f"keys refused ({status}): check {KEY_ENV} and {SECRET_ENV}"
            raise Unanswered(why, keys_refused=True) from None
        where = f"HTTP {status}" + (f"/{code}" if code else "")
        raise Unanswered(f"{where}: {api_message(exc)}") from None
    except requests.RequestException as exc:
        raise Unanswered(f"unreachable: {type(exc).__name__}") from None


async def account(client: TradingClient) -> tuple[list[Check], bool]:
    """The account's standing and day-trading rows; True when the keys were refused."""
    try:
        d: Any = await call(client.get_account)
    except Unanswered as exc:
        return [fail("account", str(exc))], exc.keys_refused
    rules = account_rules_from_json(d)
    return [_standing(rules, dict(d)), _day_trading(rules)], False


def _standing(r: AccountRules, d: dict[str, Any]) -> Check:
    blocked = [
        name for name, on in (
            ("trading blocked", r.trading_blocked), ("account blocked", r.account_blocked),
            ("trading suspended by user", bool(d.get("trade_suspended_by_user"))),
        ) if on
    ]  # fmt: skip
    if r.status != "ACTIVE" or blocked:
        return fail("account", ", ".join([f"status {r.status}", *blocked]))
    shorting = "shorting enabled" if r.shorting_enabled else "shorting disabled"
    return ok("account", f"ACTIVE, equity {r.equity_usd:,.2f} USD, {shorting}")


def _day_trading(r: AccountRules) -> Check:
    eq, n = r.pdt_equity_usd, r.daytrade_count or 0
    if not eq < PDT_MIN_EQUITY_USD:  # nan: the account reports no day-trading fields
        why = "not reported" if eq != eq else f"equity {eq:,.0f} ≥ 25,000 USD"
        return ok("day trading", f"pattern-day-trader rule does not apply ({why})")
    if r.pattern_day_trader:
        detail = f"flagged day trader, equity {eq:,.0f} < 25,000 USD: no day trade"
        return warn("day trading", detail)
    left = max(PDT_MAX_DAY_TRADES - n, 0)
    detail = f"{n} day trades in 5 sessions, equity {eq:,.0f} < 25,000 USD: {left} left"
    return (warn if left == 0 else ok)("day trading", detail)


async def clock(client: TradingClient) -> Check:
    try:
        d: Any = await call(client.get_clock)
    except Unanswered as exc:
        return fail("market clock", str(exc))
    if d.get("is_open"):
        return ok("market clock", f"open, closes {_ny(d.get('next_close'))}")
    return ok("market clock", f"closed, opens {_ny(d.get('next_open'))}")


def _ny(value: Any) -> str:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return t.astimezone(NY).strftime("%Y-%m-%d %H:%M ET")


async def shorts(client: TradingClient, symbols: Sequence[str]) -> Check:
    """Each configured short symbol asked of the assets API: the venue's word, not the config's."""
    if not symbols:
        return ok("short symbols", "none configured")
    problems: list[str] = []
    for sym in symbols:
        try:
            a = asset_from_json(dict(await call(client.get_asset, sym)))
        except Unanswered as exc:
            problems.append(f"{sym}: {exc}")
            continue
        if not (a.tradable and a.shortable):
            problems.append(f"{sym} not shortable")
        elif not a.easy_to_borrow:
            problems.append(f"{sym} hard to borrow")
    if problems:
        return warn("short symbols", "; ".join(problems) + ": never shorted")
    return ok("short symbols", f"{', '.join(symbols)} shortable and easy to borrow")
