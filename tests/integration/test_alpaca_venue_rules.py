"""The Alpaca adapter's venue rules against the local Alpaca: the account and asset objects as
Alpaca documents them, read into borrow and day-trade rules, and extended-hours limit orders."""

from __future__ import annotations

import asyncio
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

import aiohttp
import pytest
from alpaca.trading.models import Asset, Clock, TradeAccount
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer

from inavd.app import App, RunOptions
from inavd.brokers.alpaca.broker import AlpacaBroker
from inavd.clock import NY, dt_to_ns
from inavd.domain.orders import OrderRequest, OrderType, Side
from inavd.live_config import AlpacaSettings, Credentials
from inavd.settings import load_config


@pytest.fixture
def server(alpaca_server: AlpacaServer) -> AlpacaServer:
    return alpaca_server


def broker(server: AlpacaServer, extended: bool = False) -> AlpacaBroker:
    settings = AlpacaSettings(trading_url=server.base, trade_stream_url=server.trade_stream_url)
    return AlpacaBroker(Credentials(KEY, SECRET), settings, extended_hours=lambda: extended)


async def test_the_servers_objects_are_alpacas_and_the_broker_reads_its_rules(
    server: AlpacaServer,
) -> None:
    server.desk.add_assets("SDS", easy_to_borrow=False)
    server.desk.daytrade_count, server.desk.last_equity = 2, 24_000.0
    hdrs = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    async with aiohttp.ClientSession(server.base, headers=hdrs) as http:
        TradeAccount(**await (await http.get("/v2/account")).json())
        Clock(**await (await http.get("/v2/clock")).json())
        rows = await (await http.get("/v2/assets", params={"status": "active"})).json()
        assert len(rows) == 21 and all(Asset(**r).symbol for r in rows)
        bad = await http.get("/v2/assets", params={"status": "listed"})
        assert (bad.status, (await bad.json())["code"]) == (422, 42210000)
    b = broker(server)
    assets = await b.asset_rules(["SPY", "SDS", "XYZ"])
    assert sorted(assets) == ["SDS", "SPY"]
    assert assets["SDS"].shortable and not assets["SDS"].easy_to_borrow
    acct = await b.account_rules()
    assert (acct.daytrade_count, acct.pdt_equity_usd) == (2, 24_000.0)
    assert ("GET", "/v2/assets", 200) in server.requests


async def test_extended_hours_limit_day_orders_carry_alpacas_flag(server: AlpacaServer) -> None:
    b = broker(server, extended=True)
    await b.connect(timeout_s=5)
    try:
        limit = OrderRequest("eh-1", "SH", Side.BUY, 10, OrderType.LIMIT, limit_price=20.0)
        await b.submit(limit)
        sent = server.venue.lookup("eh-1")
        assert sent is not None and sent["extended_hours"] is True
        # a market order never carries it (the gates send none outside the session), and the
        # venue refuses the flag on anything but a limit DAY order, as Alpaca does
        await b.submit(OrderRequest("eh-2", "SH", Side.BUY, 10))
        sent = server.venue.lookup("eh-2")
        assert sent is not None and sent["extended_hours"] is False
    finally:
        await b.close()
    hdrs = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    body = {"symbol": "SH", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day",
            "extended_hours": True}  # fmt: skip
    async with aiohttp.ClientSession(server.base, headers=hdrs) as http:
        r = await http.post("/v2/orders", json=body)
        assert (r.status, (await r.json())["code"]) == (422, 42210000)


async def test_the_live_daemon_loads_the_venue_rules_and_todays_openings_at_start(
    tmp_path: Path, server: AlpacaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    server.desk.add_assets("SQQQ", easy_to_borrow=False)
    server.desk.daytrade_count, server.desk.last_equity = 2, 20_000.0
    server.venue.positions["QQQ"] = (40.0, 400.0)  # bought today, before a restart
    cfg_path = tmp_path / "live.toml"
    cfg_path.write_text(f"""[run]
data_dir = "{tmp_path / "var"}"
[feed]
kind = "alpaca"
[broker]
kind = "alpaca"
[alpaca]
data_url = "{server.data_url}"
data_rest_url = "{server.base}"
trading_url = "{server.base}"
trade_stream_url = "{server.trade_stream_url}"
[reference]
source = "alpaca"
""")
    app = await asyncio.to_thread(App, load_config(cfg_path), RunOptions(quiet=True))
    # a fill of an earlier run in the session the daemon trades (today, or the next session day)
    earlier = dt_to_ns(datetime.combine(app.day, dtime(9, 45), NY))
    app.journal.execute(
        "INSERT INTO fills (execution_id, run_id, ts_ns, client_order_id, symbol, side, qty, price)"
        " VALUES (?,?,?,?,?,?,?,?)",  # named columns: the schema grows by migrations
        ("e-1", "earlier-run", earlier, "c-1", "QQQ", "buy", 40.0, 400.0),
    )
    run = asyncio.create_task(app.run())
    await server.wait_subscribed()
    rules, day_trades = app.gates.rules, app.gates.day_trades
    assert rules.assets is not None and not rules.assets["SQQQ"].easy_to_borrow
    assert (rules.prior_day_trades, rules.pdt_equity_usd) == (2, 20_000.0)
    assert day_trades.opened_long == {"QQQ": 40.0} and day_trades.count == 0
    assert not rules.lends("SQQQ") and rules.lends("SPY")
    app.request_stop()
    await asyncio.wait_for(run, 10)
