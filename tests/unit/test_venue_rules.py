"""The venue's account rules as gates: hard-to-borrow, pattern day trader, fractional, extended
hours — a worked case per gate, FINRA's day-trade examples, and the pipeline fed by a broker."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from itertools import count

import msgspec
import pytest
from msgspec.structs import replace as changed
from tests.kit import strategy as k

from inavd.brokers.alpaca.rules import account_rules_from_json, assets_for
from inavd.brokers.capabilities import AccountRules, AssetRules, ConfiguredRules
from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import OrderSubmitted
from inavd.domain.orders import Fill, OrderRequest, OrderType, Side, TimeInForce
from inavd.risk import gates as g
from inavd.risk.config import RiskSettings
from inavd.risk.gates import OrderCheck
from inavd.risk.pipeline import RiskGates, build_gates
from inavd.risk.state import TradingStateController
from inavd.risk.venue_rules import DayTrades, VenueRules

CFG = RiskSettings()
_ids = count()


def req(side: Side = Side.BUY, qty: float = 100, symbol: str = "SPY", **kw: object) -> OrderRequest:
    return OrderRequest(f"c{next(_ids)}", symbol, side, qty, **kw)  # type: ignore[arg-type]


def check(r: OrderRequest, **kw: object) -> OrderCheck:
    base = OrderCheck(r, 0, bid=269.99, ask=270.01, bid_size=500, ask_size=500)
    return changed(base, **kw)


# ---------------------------------------------------------------------- gates, worked cases
def test_hard_to_borrow_short_is_refused_even_when_enabled_and_shortable() -> None:
    short = check(req(Side.SELL, 100), short_enabled=True, venue_shortable=True)
    assert g.short_sale(short, CFG) is None
    htb = changed(short, easy_to_borrow=False)
    assert g.short_sale(htb, CFG) == ("hard_to_borrow", "SPY is hard to borrow: never shorted")
    # selling a long down to flat borrows nothing: hard to borrow does not matter
    assert g.short_sale(changed(htb, position=100, settled_position=100), CFG) is None


def test_fractional_quantities_only_on_market_day_orders_and_never_short() -> None:
    assert g.fractional(check(req(qty=2.5)), CFG) is None  # market DAY buy
    lim = req(qty=2.5, order_type=OrderType.LIMIT, limit_price=270.0)
    assert g.fractional(check(lim), CFG) == (
        "fractional",
        "fractional 2.5 shares only on market DAY orders",
    )
    moc = req(qty=2.5, time_in_force=TimeInForce.CLS)
    assert g.fractional(check(moc), CFG) == g.fractional(check(lim), CFG)
    # long 2 shares: selling 2.5 would leave −0.5 short
    sell = check(req(Side.SELL, 2.5), position=2, settled_position=2)
    assert g.fractional(sell, CFG) == (
        "fractional",
        "fractional 2.5 shares of SPY cannot be sold short",
    )
    assert g.fractional(changed(sell, position=3, settled_position=3), CFG) is None
    assert g.fractional(check(req(qty=2.5), fractionable=False), CFG) == (
        "fractional",
        "SPY is not fractionable at the venue",
    )
    # whole shares are not fractional, whatever the order type
    assert g.fractional(check(lim, req=msgspec.structs.replace(lim, qty=3.0)), CFG) is None


def test_extended_hours_take_only_limit_day_orders() -> None:
    ext = RiskSettings(extended_hours=True)
    market = check(req(), in_session=False)
    assert g.session(market, ext) == (
        "extended_hours",
        "outside regular hours only limit DAY orders, not market",
    )
    assert g.session(market, CFG) == ("session", "outside regular hours")
    limit = req(order_type=OrderType.LIMIT, limit_price=270.0)
    assert g.session(check(limit, in_session=False), ext) is None
    gtc = msgspec.structs.replace(limit, time_in_force=TimeInForce.GTC)
    assert g.extended_hours(check(gtc, in_session=False), ext) is not None
    # closing-auction orders queue for the close; in regular hours anything goes
    assert (
        g.extended_hours(check(req(time_in_force=TimeInForce.CLS), in_session=False), ext) is None
    )
    assert g.extended_hours(check(req()), ext) is None


def test_pattern_day_trader_fourth_day_trade_below_25k() -> None:
    sell = check(req(Side.SELL, 10), position=10, day_trade=True, pdt_equity_usd=24_000.0)
    assert g.pattern_day_trader(changed(sell, day_trades=2), CFG) is None  # the 3rd: allowed
    assert g.pattern_day_trader(changed(sell, day_trades=3), CFG) == (
        "pattern_day_trader",
        "3 day trades in 5 sessions, equity 24,000 < 25,000 USD",
    )
    # 25,000 USD at the prior close: the rule does not apply
    assert g.pattern_day_trader(changed(sell, day_trades=3, pdt_equity_usd=25_000.0), CFG) is None
    # not a day trade (shares held overnight), or no rule at the venue (nan)
    assert g.pattern_day_trader(changed(sell, day_trades=9, day_trade=False), CFG) is None
    assert g.pattern_day_trader(changed(sell, day_trades=9, pdt_equity_usd=math.nan), CFG) is None
    flagged = changed(sell, pdt_flagged=True)
    assert g.pattern_day_trader(flagged, CFG) == (
        "pattern_day_trader",
        "flagged day trader, equity 24,000 < 25,000 USD",
    )


# ---------------------------------------------------------------------- counting day trades
def trades(*orders: tuple[str, float], position: float = 0.0) -> int:
    """Feed (symbol, signed shares) orders through the counter; the position follows them."""
    dt, pos = DayTrades(), {"ABC": position}
    for sym, delta in orders:
        dt.record(sym, delta, pos[sym])
        pos[sym] += delta
    return dt.count


def test_day_trades_counted_as_finra_examples() -> None:
    assert trades(("ABC", 250), ("ABC", 250), ("ABC", -500)) == 1  # example A
    assert trades(("ABC", 100), ("ABC", -100), ("ABC", 100), ("ABC", -100)) == 2  # example B
    assert trades(("ABC", -100), ("ABC", 100)) == 1  # short, then covered the same day
    assert trades(("ABC", -100), position=100) == 0  # sold shares held overnight
    # 100 held overnight, 100 bought today: the first sale of 100 closes today's shares
    assert trades(("ABC", 100), ("ABC", -100), ("ABC", -100), position=100) == 1
    assert trades(("ABC", -100), ("ABC", 100), position=100) == 0  # bought back: no round trip


def test_a_restart_rebuilds_what_was_opened_today_from_its_fills() -> None:
    dt = DayTrades()
    # SPY: 100 held overnight, 50 bought and 50 sold today (a day trade the venue counted already);
    # QQQ: 40 bought today; IWM: 30 sold short today
    fills = [
        ("SPY", "buy", 50.0),
        ("SPY", "sell", 50.0),
        ("QQQ", "buy", 40.0),
        ("IWM", "sell", 30.0),
    ]
    dt.seed(fills, {"SPY": 100.0, "QQQ": 40.0, "IWM": -30.0})
    assert dt.count == 0  # already in the account's daytrade_count
    assert not dt.would_day_trade("SPY", -100.0, 100.0)  # the overnight shares
    assert dt.would_day_trade("QQQ", -40.0, 40.0)
    assert dt.would_day_trade("IWM", 30.0, -30.0)


# ---------------------------------------------------------------------- the pipeline
@dataclass
class Venue:
    """A broker with both optional capabilities (the paper venue's rules from config)."""

    rules: ConfiguredRules
    equity: float = 1_000_000.0

    async def asset_rules(self, symbols: list[str]) -> dict[str, AssetRules]:
        return self.rules.assets(symbols)

    async def account_rules(self) -> AccountRules:
        return self.rules.account(self.equity, self.equity)


def pipeline(venue: object, cfg: RiskSettings = CFG) -> tuple[RiskGates, k.Positions]:
    u, now = k.universe(), k.at(11, 0)
    book = k.book(u, {"SPY": (269.99, 270.01), "QQQ": (189.99, 190.01)}, now)
    bus, clock = Bus(), SimClock(now)
    pos = k.Positions()
    gates = build_gates(
        cfg, universe=u, book=book, positions=pos, clock=clock, session=k.session(),
        state=TradingStateController(bus, clock), bus=bus,
    )  # fmt: skip
    asyncio.run(gates.rules.load(venue, u.symbols))
    return gates, pos


def send(gates: RiskGates, pos: k.Positions, r: OrderRequest) -> tuple[str, str] | None:
    """What the router does: the gates, then the submit event; the order fills at once."""
    denial = gates(r)
    if denial is None:
        gates.state.bus.publish(OrderSubmitted(0, r))
        pos.ledger.apply(Fill(0, r.client_order_id, "b", r.symbol, r.side, r.qty, 270.0, "e"))
    return denial


def round_trip(gates: RiskGates, pos: k.Positions) -> list[tuple[str, str] | None]:
    return [send(gates, pos, req(Side.BUY, 10)), send(gates, pos, req(Side.SELL, 10))]


def test_pdt_fourth_day_trade_refused_below_25k_allowed_at_25k() -> None:
    rules = ConfiguredRules(daytrade_count=2)  # two day trades in the four sessions before
    small, pos = pipeline(Venue(rules, equity=24_999.0))
    assert round_trip(small, pos) == [None, None]  # the third day trade
    denied = round_trip(small, pos)
    assert denied[0] is None  # opening again is no day trade
    assert denied[1] == (
        "pattern_day_trader",
        "3 day trades in 5 sessions, equity 24,999 < 25,000 USD",
    )
    assert small.day_trades.count == 1  # the refused order was not counted
    large, pos = pipeline(Venue(rules, equity=25_000.0))
    assert round_trip(large, pos) + round_trip(large, pos) == [None] * 4
    assert large.day_trades.count == 2


def test_flagged_day_trader_below_25k_makes_no_day_trade() -> None:
    gates, pos = pipeline(Venue(ConfiguredRules(pattern_day_trader=True), equity=20_000.0))
    assert round_trip(gates, pos)[1] == (
        "pattern_day_trader",
        "flagged day trader, equity 20,000 < 25,000 USD",
    )


def test_hard_to_borrow_from_the_broker_overrides_the_config() -> None:
    cfg = RiskSettings(short_symbols=["SPY", "QQQ"], shortable=["SPY", "QQQ"])
    venue = Venue(ConfiguredRules(frozenset({"SPY", "QQQ"}), hard_to_borrow=frozenset({"QQQ"})))
    gates, _ = pipeline(venue, cfg)
    assert gates(req(Side.SELL, 10, "SPY")) is None
    assert gates(req(Side.SELL, 10, "QQQ")) == (
        "hard_to_borrow",
        "QQQ is hard to borrow: never shorted",
    )
    # the venue lends nothing: the config's list no longer counts
    gates, _ = pipeline(Venue(ConfiguredRules()), cfg)
    assert gates(req(Side.SELL, 10, "SPY")) == ("short_sale", "SPY is not shortable at the venue")


def test_a_broker_without_the_capabilities_keeps_the_config_rules() -> None:
    cfg = RiskSettings(short_symbols=["SPY"], shortable=["SPY"])
    gates, pos = pipeline(object(), cfg)
    assert gates.rules.assets is None and math.isnan(gates.rules.pdt_equity_usd)
    assert gates(req(Side.SELL, 10, "SPY")) is None
    assert round_trip(gates, pos) + round_trip(gates, pos) == [None] * 4  # no PDT rule


def test_a_broker_that_fails_to_answer_refuses_every_short() -> None:
    class Down(Venue):
        async def asset_rules(self, symbols: list[str]) -> dict[str, AssetRules]:
            raise ConnectionError("unreachable")

    cfg = RiskSettings(short_symbols=["SPY"], shortable=["SPY"])
    gates, _ = pipeline(Down(ConfiguredRules(frozenset({"SPY"}))), cfg)
    assert gates.rules.error == "asset rules: unreachable"
    assert gates(req(Side.SELL, 10, "SPY")) == ("short_sale", "SPY is not shortable at the venue")


# ---------------------------------------------------------------------- Alpaca's objects
def test_alpaca_asset_and_account_objects() -> None:
    rows = [
        {"symbol": "SQQQ", "status": "active", "tradable": True, "shortable": True,
         "easy_to_borrow": False, "fractionable": True},
        {"symbol": "SPY", "status": "active", "tradable": True, "shortable": True,
         "easy_to_borrow": True, "fractionable": True},
        {"symbol": "AAPL", "status": "active", "tradable": True, "shortable": True,
         "easy_to_borrow": True, "fractionable": True},
    ]  # fmt: skip
    assets = assets_for(rows, ["SPY", "SQQQ", "TQQQ"])
    assert sorted(assets) == ["SPY", "SQQQ"]  # AAPL is not ours; TQQQ unknown to the venue
    assert assets["SQQQ"] == AssetRules("SQQQ", True, True, False, True)
    acct = account_rules_from_json(
        {"status": "ACTIVE", "equity": "24500.10", "last_equity": "24000.00",
         "pattern_day_trader": False, "daytrade_count": 3, "shorting_enabled": True}
    )  # fmt: skip
    assert acct.pdt_equity_usd == pytest.approx(24_000.0)  # the prior close, not the live equity
    assert acct.daytrade_count == 3 and acct.pattern_day_trader is False
    # an account object without the (deprecated) day-trading fields: no rule
    bare = account_rules_from_json({"status": "ACTIVE", "equity": "1000", "last_equity": "1000"})
    assert math.isnan(bare.pdt_equity_usd)
    rules = VenueRules(lambda s: True)
    rules.account = bare
    assert rules.prior_day_trades == 0 and not rules.pdt_flagged


def test_signals_turn_a_short_the_venue_will_not_lend_into_long_exposure() -> None:
    from inavd.domain.intents import Intent
    from inavd.settings import load_config
    from inavd.signals.factory import ShortAware, build_signals

    risk = RiskSettings(short_symbols=["SPY", "QQQ"], shortable=["SPY", "QQQ"])
    settings = load_config(None).settings.model_copy(update={"risk": risk})  # premium_arb on
    venue = Venue(ConfiguredRules(frozenset({"SPY", "QQQ"}), hard_to_borrow=frozenset({"QQQ"})))
    gates, _ = pipeline(venue)
    signals = build_signals(settings, k.universe(), venue_lends=gates.rules.lends)
    policy = next(s for s in signals if isinstance(s, ShortAware)).policy
    short = Intent("premarb", "SPY", -10.0, "hedge")
    assert not policy.needs_translation(short)  # lent: the gates let it through
    assert policy.needs_translation(msgspec.structs.replace(short, symbol="QQQ"))  # hard to borrow
    config_only = build_signals(settings, k.universe())  # no broker: the config's list
    policy = next(s for s in config_only if isinstance(s, ShortAware)).policy
    assert not policy.needs_translation(msgspec.structs.replace(short, symbol="QQQ"))
