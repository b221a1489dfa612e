"""The local Alpaca's account, assets and clock endpoints, shaped as Alpaca documents them.

`GET /v2/account` (the full account object, amounts as decimal strings), `GET /v2/assets` (query
`status`, `asset_class`, `exchange`, `attributes`; anything else is refused) and
`GET /v2/assets/{symbol_or_asset_id}` (404 `asset not found`), `GET /v2/clock`. Tests steer the
account's standing, the day-trading fields and each asset's borrow through `Desk`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.kit.alpaca_trading import Venue

STATUSES = ("ONBOARDING", "SUBMISSION_FAILED", "SUBMITTED", "ACCOUNT_UPDATED",
            "APPROVAL_PENDING", "ACTIVE", "REJECTED")  # fmt: skip
# the bundled universe: listed, shortable and easy to borrow unless a test says otherwise
LISTED = ("SPY", "QQQ", "DIA", "IWM", "SH", "PSQ", "DOG", "RWM", "SDS", "QID", "DXD", "TWM", "SPXU",
          "SQQQ", "SPXS", "TZA", "SSO", "QLD", "UPRO", "TQQQ", "TNA")  # fmt: skip
ASSET_QUERY: dict[str, set[str] | None] = {
    "status": {"active", "inactive"},
    "asset_class": {"us_equity", "us_option", "crypto"},
    "exchange": None,
    "attributes": None,
}
OPEN_CLOCK = {
    "timestamp": "2024-03-01T10:00:00-05:00",
    "is_open": True,
    "next_open": "2024-03-04T09:30:00-05:00",
    "next_close": "2024-03-01T16:00:00-05:00",
}


def asset(
    sym: str,
    *,
    shortable: bool = True,
    easy_to_borrow: bool = True,
    tradable: bool = True,
    fractionable: bool = True,
    status: str = "active",
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, sym)), "class": "us_equity",
        "exchange": "ARCA", "symbol": sym, "name": f"{sym} ETF", "status": status,
        "tradable": tradable, "marginable": True, "maintenance_margin_requirement": 30,
        "margin_requirement_long": "30", "margin_requirement_short": "30",
        "shortable": shortable, "easy_to_borrow": easy_to_borrow, "fractionable": fractionable,
        "attributes": ["fractional_eh_enabled"] if fractionable else [],
    }  # fmt: skip


@dataclass
class Desk:
    venue: Venue
    status: str = "ACTIVE"
    trading_blocked: bool = False
    account_blocked: bool = False
    trade_suspended_by_user: bool = False
    shorting_enabled: bool = True
    pattern_day_trader: bool | None = False  # None: the field is left out (deprecated)
    daytrade_count: int | None = 0
    last_equity: float | None = None  # None: today's equity
    assets: dict[str, dict[str, Any]] = field(default_factory=lambda: {s: asset(s) for s in LISTED})
    clock: dict[str, Any] = field(default_factory=lambda: dict(OPEN_CLOCK))

    def add_assets(self, *symbols: str, **flags: Any) -> None:
        for s in symbols:
            self.assets[s] = asset(s, **flags)

    def account_json(self) -> dict[str, Any]:
        assert self.status in STATUSES
        v = self.venue
        mv = {s: q * v.prices.get(s, a) for s, (q, a) in v.positions.items()}
        long_mv = sum(x for x in mv.values() if x > 0)
        short_mv = sum(x for x in mv.values() if x < 0)
        equity = v.cash + long_mv + short_mv
        last = equity if self.last_equity is None else self.last_equity
        usd = "{:.2f}".format
        d: dict[str, Any] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "account")), "account_number": "PA0000",
            "status": self.status, "crypto_status": "ACTIVE", "currency": "USD",
            "buying_power": usd(2 * equity), "regt_buying_power": usd(2 * equity),
            "daytrading_buying_power": usd(0), "non_marginable_buying_power": usd(equity),
            "options_buying_power": usd(equity), "cash": usd(v.cash), "accrued_fees": "0",
            "pending_transfer_in": "0", "pending_transfer_out": "0", "portfolio_value": usd(equity),
            "trading_blocked": self.trading_blocked, "transfers_blocked": False,
            "account_blocked": self.account_blocked, "created_at": "2024-01-02T15:00:00Z",
            "trade_suspended_by_user": self.trade_suspended_by_user, "multiplier": "2",
            "shorting_enabled": self.shorting_enabled, "equity": usd(equity),
            "last_equity": usd(last), "long_market_value": usd(long_mv),
            "short_market_value": usd(short_mv), "position_market_value": usd(long_mv - short_mv),
            "initial_margin": "0", "maintenance_margin": "0", "last_maintenance_margin": "0",
            "sma": usd(equity), "options_approved_level": 0, "options_trading_level": 0,
        }  # fmt: skip
        if self.pattern_day_trader is not None:
            d["pattern_day_trader"] = self.pattern_day_trader
        if self.daytrade_count is not None:
            d["daytrade_count"] = self.daytrade_count
        return d

    # ------------------------------------------------------------------ routes
    def add_routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/v2/account", self._account)
        r.add_get("/v2/assets", self._assets)
        r.add_get("/v2/assets/{symbol_or_id}", self._asset)
        r.add_get("/v2/clock", self._clock)

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response(self.account_json())

    async def _assets(self, request: web.Request) -> web.Response:
        for key, value in request.query.items():
            if key not in ASSET_QUERY:
                return _error(422, 42210000, f"unknown parameter {key}")
            allowed = ASSET_QUERY[key]
            if allowed is not None and value not in allowed:
                return _error(422, 42210000, f"invalid {key}: {value}")
        q = request.query
        rows = [a for a in self.assets.values()
                if a["status"] == q.get("status", a["status"])
                and a["class"] == q.get("asset_class", a["class"])
                and a["exchange"] == q.get("exchange", a["exchange"])]  # fmt: skip
        return web.json_response(rows)

    async def _asset(self, request: web.Request) -> web.Response:
        key = request.match_info["symbol_or_id"]
        for a in self.assets.values():
            if key in (a["symbol"], a["id"]):
                return web.json_response(a)
        return _error(404, 40410000, "asset not found")

    async def _clock(self, request: web.Request) -> web.Response:
        return web.json_response(self.clock)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)
