"""The Alpaca broker adapter over the real alpaca-py clients against the local wire server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
from alpaca.trading.models import Order as AlpacaOrder
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer, Fault
from tests.kit.paths import DEFAULT_CONFIG
from tests.kit.waits import until

from inavd.adapters import make_broker
from inavd.book.quote_book import QuoteBook
from inavd.brokers.alpaca.broker import AlpacaBroker
from inavd.bus import Bus
from inavd.calendar import session_for
from inavd.clock import WallClock
from inavd.domain.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from inavd.errors import FatalBrokerError, OrderRejected, RateLimited, UnknownOutcome
from inavd.execution.ratelimit import Backoff
from inavd.execution.router import OrderRouter
from inavd.live_config import AlpacaSettings, Credentials
from inavd.settings import Config, Settings, load_config


class Events:
    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.fills: list[tuple[Fill, float]] = []

    def on_order(self, o: Order) -> None:
        self.orders.append(o)

    def on_fill(self, f: Fill, pos: float) -> None:
        self.fills.append((f, pos))


def settings(server: AlpacaServer, **kw: object) -> AlpacaSettings:
    return AlpacaSettings(
        trading_url=server.base,
        trade_stream_url=server.trade_stream_url,
        backoff_min_s=0.05,
        backoff_max_s=0.2,
        rest_timeout_s=0.5,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def server() -> AsyncIterator[AlpacaServer]:
    s = await AlpacaServer().start()
    yield s
    await s.stop()


@pytest.fixture
async def broker(server: AlpacaServer) -> AsyncIterator[tuple[AlpacaBroker, Events]]:
    b = AlpacaBroker(Credentials(KEY, SECRET), settings(server))
    ev = Events()
    b.set_listener(ev.on_order, ev.on_fill)
    await b.connect(timeout_s=5)
    assert b.trading_ready
    yield b, ev
    await b.close()


def req(coid: str, qty: float = 10, side: Side = Side.BUY, **kw: object) -> OrderRequest:
    return OrderRequest(coid, kw.pop("symbol", "SH"), side, qty, **kw)  # type: ignore[arg-type]


async def test_moc_is_market_with_cls_and_fills_at_the_close(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, ev = broker
    o = await b.submit(req("moc-1", 7, Side.SELL, time_in_force=TimeInForce.CLS, strategy="s1"))
    sent = server.venue.lookup("moc-1")
    assert sent is not None and sent["type"] == "market" and sent["time_in_force"] == "cls"
    assert o.status is OrderStatus.NEW and o.request.strategy == "s1"
    AlpacaOrder(**sent)  # the server's JSON is what alpaca-py's own model accepts
    await server.closing_auction({"SH": 25.5})
    await until(lambda: len(ev.fills) == 1)
    fill, pos = ev.fills[0]
    assert (fill.qty, fill.price, fill.side, pos) == (7, 25.5, Side.SELL, -7)
    assert ev.orders[-1].status is OrderStatus.FILLED and ev.orders[-1].avg_fill_price == 25.5
    positions = await b.positions()
    assert positions["SH"].qty == -7 and positions["SH"].avg_price == pytest.approx(25.5)


async def test_limit_partial_fills_then_fill(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, ev = broker
    await b.submit(req("loc-1", 10, order_type=OrderType.LIMIT, limit_price=20.0))
    assert server.venue.lookup("loc-1")["limit_price"] == "20"  # type: ignore[index]
    await server.fill("loc-1", 4, 19.9)
    await server.fill("loc-1", None, 20.0)
    await until(lambda: len(ev.fills) == 2)
    assert [(f.qty, f.price, p) for f, p in ev.fills] == [(4, 19.9, 4), (6, 20.0, 10)]
    final = await b.get_order("loc-1")
    assert final is not None and final.status is OrderStatus.FILLED
    assert final.avg_fill_price == pytest.approx((4 * 19.9 + 6 * 20) / 10)


async def test_cancel_then_cancel_again_is_rejected(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, _ = broker
    await b.submit(req("c-1", order_type=OrderType.LIMIT, limit_price=1.0))
    o = await b.cancel("c-1")
    assert o.status is OrderStatus.CANCELED
    with pytest.raises(OrderRejected, match="422"):
        await b.cancel("c-1")
    assert await b.open_orders() == []


async def test_replace_returns_a_new_order(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, ev = broker
    old = await b.submit(req("r-1", 10, order_type=OrderType.LIMIT, limit_price=1.0))
    new = await b.replace("r-1", "r-2", 5, 1.5)
    assert new.client_order_id == "r-2" and new.broker_order_id != old.broker_order_id
    assert (new.request.qty, new.request.limit_price) == (5, 1.5)
    assert server.venue.lookup("r-2")["replaces"] == old.broker_order_id  # type: ignore[index]
    await until(lambda: any(o.status is OrderStatus.REPLACED for o in ev.orders))
    assert [o.client_order_id for o in await b.open_orders()] == ["r-2"]


async def test_duplicate_client_order_id_resolves_by_lookup(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, _ = broker
    first = await b.submit(req("dup-1", order_type=OrderType.LIMIT, limit_price=1.0))
    # a restarted process re-sends the journaled order: it never saw the answer → that order
    b2 = AlpacaBroker(Credentials(KEY, SECRET), settings(server))
    await b2.connect(timeout_s=5)
    try:
        again = await b2.submit(req("dup-1", order_type=OrderType.LIMIT, limit_price=1.0))
        assert again.broker_order_id == first.broker_order_id
        with pytest.raises(OrderRejected, match="already used"):  # same id, another order
            await b2.submit(req("dup-1", 11, order_type=OrderType.LIMIT, limit_price=1.0))
    finally:
        await b2.close()
    with pytest.raises(OrderRejected, match="already used"):  # its answer was seen: refused
        await b.submit(req("dup-1", order_type=OrderType.LIMIT, limit_price=1.0))
    assert [r for r in server.requests if r[:2] == ("POST", "/v2/orders")] == [
        ("POST", "/v2/orders", 200), *[("POST", "/v2/orders", 422)] * 3
    ]
    assert len(server.venue.orders) == 1
    assert (await b.get_order("dup-1")).request.qty == 10  # type: ignore[union-attr]


async def test_timeout_after_accept_resolves_by_lookup_not_resend(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, _ = broker
    server.faults.append(Fault("POST", "/v2/orders", 500, after=True, delay_s=1.0))  # > timeout
    o = await b.submit(req("t-1"))
    assert o.client_order_id == "t-1" and len(server.venue.orders) == 1
    posts = [r for r in server.requests if r[0] == "POST"]
    assert len(posts) <= 1  # never resubmitted


async def test_5xx_before_accept_is_unknown_outcome(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, _ = broker
    server.faults.append(Fault("POST", "/v2/orders", 503))
    with pytest.raises(UnknownOutcome, match="no order"):
        await b.submit(req("u-1"))
    assert server.venue.orders == {}


async def test_rejections_map_by_status_and_code(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, _ = broker
    server.faults.append(Fault("POST", "/v2/orders", 403,
                               body={"code": 40310000, "message": "insufficient qty"}))
    with pytest.raises(OrderRejected, match="40310000"):
        await b.submit(req("x-1"))
    server.faults.append(Fault("GET", "/v2/account", 403, body={"message": "forbidden"}))
    with pytest.raises(FatalBrokerError):  # no JSON code: `.code` would raise, guarded
        await b.account()
    server.faults.append(Fault("GET", "/v2/account", 502, body=None))
    from inavd.errors import RetryableBrokerError

    with pytest.raises(RetryableBrokerError):
        await b.account()


async def test_wrong_keys_are_fatal(server: AlpacaServer) -> None:
    b = AlpacaBroker(Credentials("PKWRONG", SECRET), settings(server))
    with pytest.raises(FatalBrokerError, match="401"):
        await b.account()


async def test_429_burst_is_absorbed(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    """Every 429 pauses the shared limiter, so the *other* callers wait too; then it goes."""
    b, _ = broker
    b.backoff = Backoff(0.1, 1.0, seed=1)
    server.faults.append(Fault("POST", "/v2/orders", 429, count=3,
                               body={"code": 42910000, "message": "rate limit exceeded"}))
    waits = b.limiter.waits
    o, acct = await asyncio.gather(b.submit(req("rl-1")), b.account())
    assert o.status is OrderStatus.NEW and acct.cash_usd == 100_000
    statuses = [s for m, p, s in server.requests if m == "POST"]
    assert statuses == [429, 429, 429, 200]
    assert b.rate_limited == 3
    assert b.limiter.waits - waits >= 3  # the retries waited out the pause, not a thread sleep


async def test_app_broker_shares_one_limiter_with_the_execution_engine(
    server: AlpacaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limiter is built from [execution.rate_limit]; the router does not count twice."""
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    base = load_config(DEFAULT_CONFIG)
    settings = Settings.model_validate({
        "broker": {"kind": "alpaca"},
        "alpaca": {"trading_url": server.base, "trade_stream_url": server.trade_stream_url},
        "execution": {"rate_limit": {"per_minute": 100, "headroom": 0.5, "max_attempts": 2}},
    })  # fmt: skip
    cfg = Config(path=base.path, settings=settings, universe=base.universe)
    session = session_for(date(2024, 3, 1))
    assert session is not None
    b = make_broker(cfg, QuoteBook(("SH",)), WallClock(), session)
    assert isinstance(b, AlpacaBroker)
    assert (b.limiter.capacity, b.max_attempts) == (50, 2)
    router = OrderRouter("r", b, Bus(), WallClock())
    assert router.gateway.limiter is None  # every HTTP request takes its slot in the adapter
    server.faults.append(Fault("GET", "/v2/account", 429, count=5))
    with pytest.raises(RateLimited):  # gives up after max_attempts, each one paced
        await b.account()
    assert b.rate_limited == 1


async def test_account_positions_clock(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, ev = broker
    server.venue.prices["SDS"] = 30.0
    await b.submit(req("m-1", 3, symbol="SDS"))  # market: the server fills it at once
    await until(lambda: len(ev.fills) == 1)
    acct = await b.account()
    assert acct.cash_usd == pytest.approx(100_000 - 90)
    assert acct.equity_usd == pytest.approx(100_000)
    assert (await b.positions())["SDS"].qty == 3
    assert (await b.clock())["is_open"] is True


async def test_dropped_trade_stream_gates_until_reauthorised_and_reconciled(
    server: AlpacaServer, broker: tuple[AlpacaBroker, Events]
) -> None:
    b, ev = broker
    await b.submit(req("g-1", 10, order_type=OrderType.LIMIT, limit_price=20.0))
    server.trade_auth_delay_s = 0.3
    await server.drop_trade_stream()
    await until(lambda: not b.trading_ready)
    assert b.gate(req("g-2")) == ("broker", "trade stream not authorised or not reconciled")
    with pytest.raises(OrderRejected, match="gated"):
        await b.submit(req("g-2"))
    # while the stream is down the order fills: the update is lost, reconciliation finds it
    o = server.venue.lookup("g-1")
    assert o is not None
    server.venue.fill(o, None, 19.5)
    await until(lambda: b.trading_ready, within=5)
    assert b.reconciles == 2
    assert [(f.client_order_id, f.qty, f.price, p) for f, p in ev.fills] == [("g-1", 10, 19.5, 10)]
    assert ev.orders[-1].status is OrderStatus.FILLED
    assert b.gate(req("g-3")) is None
    await b.submit(req("g-3"))
