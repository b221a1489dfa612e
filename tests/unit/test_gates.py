"""Risk gates: a worked case per gate, and the pipeline (trading state, daily loss, order rate)."""

from __future__ import annotations

import marshal
import math
from pathlib import Path

import pytest
from msgspec.structs import replace as changed
from tests.kit import strategy as k

from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import TradingState, TradingStateChanged
from inavd.domain.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from inavd.domain.quotes import QuoteBatch
from inavd.risk import gates as g
from inavd.risk.config import RiskSettings
from inavd.risk.gates import OrderCheck
from inavd.risk.pipeline import RiskGates, universe_beta
from inavd.risk.state import TradingStateController

CFG = RiskSettings()


def req(side: Side = Side.BUY, qty: float = 100, **kw: object) -> OrderRequest:
    return OrderRequest("c1", kw.pop("symbol", "SH"), side, qty, **kw)  # type: ignore[arg-type]


def check(r: OrderRequest | None = None, **kw: object) -> OrderCheck:
    base = OrderCheck(
        r or req(),
        now_ns=0,
        bid=24.99,
        ask=25.01,
        bid_size=500,
        ask_size=500,
        spread_mean_bp=8.0,
        spread_std_bp=1.0,
        spread_updates=100,
        is_fund=True,
        beta=-1.0,
    )
    return changed(base, **kw)


def test_a_normal_order_passes_every_gate() -> None:
    c = check()
    assert [gate(c, CFG) for gate in g.GATES] == [None] * len(g.GATES)


def test_trading_state() -> None:
    halted = check(state=TradingState.HALTED, state_reason="operator")
    assert g.trading_state(halted, CFG) == ("trading_state", "halted (operator)")
    # REDUCING: a sell of 100 out of a 300 long passes, a buy does not
    assert (
        g.trading_state(check(req(Side.SELL), position=300, state=TradingState.REDUCING), CFG)
        is None
    )
    assert g.trading_state(check(position=300, state=TradingState.REDUCING), CFG) is not None
    # selling 400 out of 300 flips to short: not reducing
    flip = check(req(Side.SELL, 400), position=300, state=TradingState.REDUCING)
    assert g.trading_state(flip, CFG) is not None


def test_spread_above_mean_plus_k_sigma() -> None:
    # spread = 0.02 / 25 = 8 bp; mean 8, σ 1 → limit 11 bp: passes
    assert g.spread(check(), CFG) is None
    # 0.03 wide = 12 bp > 11 bp
    wide = check(bid=24.985, ask=25.015)
    assert g.spread(wide, CFG) == ("spread", "spread 12.00 bp > mean + 3σ = 11.00 bp")
    # exits are not held back by default; auction orders never cross the spread
    assert g.spread(check(req(Side.SELL), bid=24.985, ask=25.015, position=100), CFG) is None
    moc = req(time_in_force=TimeInForce.CLS)
    assert g.spread(check(moc, bid=24.985, ask=25.015), CFG) is None
    assert g.spread(check(spread_updates=3), CFG) is not None  # no history yet


def test_displayed_size_floor() -> None:
    assert g.displayed_size(check(ask_size=99), CFG) == (
        "displayed_size",
        "99 shares displayed < 100",
    )
    assert g.displayed_size(check(req(Side.SELL), ask_size=99), CFG) is None  # a sell hits the bid


def test_stale_quote_and_inav() -> None:
    assert g.stale_data(check(quote_age_s=10.5), CFG)[0] == "stale_quote"  # type: ignore[index]
    assert g.stale_data(check(inav_age_s=46), CFG)[0] == "stale_inav"  # type: ignore[index]
    assert g.stale_data(check(inav_age_s=46, is_fund=False), CFG) is None  # benchmarks have none


def test_crossed_locked_and_missing_quotes() -> None:
    assert g.crossed_or_locked(check(bid=25.02, ask=25.01), CFG)[0] == "crossed"  # type: ignore[index]
    locked = g.crossed_or_locked(check(bid=25.01, ask=25.01), CFG)
    assert locked is not None and "locked" in locked[1]
    assert g.crossed_or_locked(check(bid=math.nan), CFG) == ("no_quote", "no two-sided quote")


def test_limits() -> None:
    # 2,100 shares at the 25.01 ask = 52,521 USD > 50,000
    assert g.order_notional(check(req(qty=2100)), CFG)[0] == "max_order_notional"  # type: ignore[index]
    assert g.order_notional(check(req(qty=1999)), CFG) is None
    # 3,900 held + 100 = 4,000 × 25 = 100,000: at the limit passes, one more share does not
    assert g.position_limit(check(position=3900), CFG) is None
    assert g.position_limit(check(req(qty=101), position=3900), CFG) is not None
    per_symbol = RiskSettings(position_limits_usd={"SH": 1_000})
    assert g.position_limit(check(), per_symbol) is not None
    # gross: 490,000 benchmark dollars + 100 SH × 25 × |−1| = 492,500 ≤ 500,000
    assert g.exposure(check(gross_usd=490_000), CFG) is None
    assert g.exposure(check(req(qty=500), gross_usd=490_000), CFG)[0] == "max_gross"  # type: ignore[index]
    # net: −249,000 and buying SH (β = −1) adds −2,500 → −251,500 beyond ±250,000
    assert g.exposure(check(net_usd=-249_000), CFG)[0] == "max_net"  # type: ignore[index]
    assert g.order_rate(check(orders_last_minute=30), CFG)[0] == "order_rate"  # type: ignore[index]
    assert g.order_rate(check(orders_last_minute=29), CFG) is None
    assert g.daily_loss(check(pnl_usd=-5_000), CFG)[0] == "daily_loss"  # type: ignore[index]
    assert g.daily_loss(check(pnl_usd=-4_999), CFG) is None


def test_short_sales() -> None:
    short = req(Side.SELL, 100)
    assert g.short_sale(check(short), CFG) == ("short_sale", "short sales of SH are not enabled")
    enabled = check(short, short_enabled=True)
    assert g.short_sale(enabled, CFG) == ("short_sale", "SH is not shortable at the venue")
    assert g.short_sale(check(short, short_enabled=True, venue_shortable=True), CFG) is None
    # selling what is held is not a short sale; a working buy does not count as held
    assert g.short_sale(check(short, position=100, settled_position=100), CFG) is None
    assert g.short_sale(check(short, position=100, settled_position=0), CFG) is not None


def test_price_collar() -> None:
    ok = req(order_type=OrderType.LIMIT, limit_price=25.10)  # 40 bp from the 25.00 mid
    assert g.price_collar(check(ok), CFG) is None
    fat = req(order_type=OrderType.LIMIT, limit_price=25.15)  # 60 bp
    assert g.price_collar(check(fat), CFG) == (
        "price_collar",
        "limit 25.1500 is 60 bp from mid > 50",
    )


def test_session_and_moc_cutoff() -> None:
    assert g.session(check(in_session=False), CFG) == ("session", "outside regular hours")
    # extended hours take limit DAY orders only (tests/unit/test_venue_rules.py)
    ext = req(order_type=OrderType.LIMIT, limit_price=25.01)
    assert g.session(check(ext, in_session=False), RiskSettings(extended_hours=True)) is None
    moc = req(Side.SELL, time_in_force=TimeInForce.CLS)
    assert g.session(check(moc, after_moc_cutoff=True), CFG)[0] == "moc_cutoff"  # type: ignore[index]
    assert g.session(check(moc), CFG) is None


# ---------------------------------------------------------------------- the pipeline
def pipeline(
    now_ns: int, cfg: RiskSettings = CFG, day_session: bool = True
) -> tuple[RiskGates, k.Positions, TradingStateController, list[TradingStateChanged]]:
    u = k.universe()
    book = k.book(u, {"SPY": (269.99, 270.01), "SH": (24.99, 25.01)}, now_ns)
    bus, clock = Bus(), SimClock(now_ns)
    changes: list[TradingStateChanged] = []
    bus.subscribe(TradingStateChanged, changes.append)
    state = TradingStateController(bus, clock)
    pos = k.Positions()
    gates = RiskGates(
        cfg,
        book=book,
        positions=pos,
        clock=clock,
        session=k.session() if day_session else None,
        state=state,
        beta=universe_beta(u),
        funds=frozenset(f.symbol for f in u.funds),
        shortable=lambda s: s == "SPY",
    )
    gates.attach(bus)
    bus.publish(k.event(u, now_ns, {"SH": 25.0}))
    return gates, pos, state, changes


def fill(symbol: str, side: Side, qty: float, price: float) -> Fill:
    return Fill(0, "x", "b", symbol, side, qty, price, "e")


def test_pipeline_passes_then_counts_the_order_rate() -> None:
    gates, _, _, _ = pipeline(k.at(11, 0), RiskSettings(max_orders_per_minute=2))
    assert gates(req()) is None
    assert gates(req()) is None
    assert gates(req()) == ("order_rate", "2 orders in the last minute")


def test_daily_loss_halts_and_halted_blocks_reducing_orders_too() -> None:
    gates, pos, state, changes = pipeline(k.at(11, 0))
    # bought 4,000 SH at 26.30; the mid is 25.00 → −5,200 USD
    pos.ledger.apply(fill("SH", Side.BUY, 4000, 26.30))
    denial = gates(req(Side.SELL, 100))
    assert denial is not None and denial[0] == "daily_loss"
    assert state.state is TradingState.HALTED
    assert [c.state for c in changes] == [TradingState.HALTED]
    assert gates(req(Side.SELL, 100)) == ("trading_state", f"halted ({state.reason})")


def test_the_loss_check_after_an_inav_evaluation_halts_without_any_order() -> None:
    gates, pos, state, _ = pipeline(k.at(11, 0))
    pos.ledger.apply(fill("SH", Side.BUY, 4000, 26.30))
    gates.state.bus.publish(k.event(k.universe(), k.at(11, 0, 15), {"SH": 25.0}))
    assert state.state is TradingState.HALTED


def test_pipeline_short_sale_uses_enabled_and_venue_shortable() -> None:
    gates, _, _, _ = pipeline(k.at(11, 0), RiskSettings(short_symbols=["SPY", "SH"]))
    assert gates(req(Side.SELL, 10, symbol="SPY")) is None
    assert gates(req(Side.SELL, 10, symbol="SH")) == (
        "short_sale",
        "SH is not shortable at the venue",
    )


def test_pipeline_moc_after_the_cutoff_and_outside_hours() -> None:
    gates, pos, _, _ = pipeline(k.at(15, 50, 1))
    pos.ledger.apply(fill("SPY", Side.BUY, 10, 270.0))
    moc = req(Side.SELL, 10, symbol="SPY", time_in_force=TimeInForce.CLS)
    assert gates(moc) is not None and gates(moc)[0] == "moc_cutoff"  # type: ignore[index]
    gates, pos, _, _ = pipeline(k.at(15, 49, 59))
    pos.ledger.apply(fill("SPY", Side.BUY, 10, 270.0))
    assert gates(moc) is None
    gates, _, _, _ = pipeline(k.at(16, 0, 1))
    assert gates(req()) == ("session", "outside regular hours")


def test_early_close_cutoff_comes_from_the_calendar() -> None:
    # 2019-11-29 closed at 13:00 ET: the MOC cutoff is 12:50
    from datetime import date

    from inavd.calendar import session_for

    s = session_for(date(2019, 11, 29))
    assert s is not None and s.early_close
    assert s.moc_cutoff_ns() == k.at(12, 50, day=date(2019, 11, 29))


def test_stale_quotes_in_the_pipeline() -> None:
    gates, _, _, _ = pipeline(k.at(11, 0))
    gates.clock.advance_to(k.at(11, 0, 46))  # type: ignore[attr-defined]
    denial = gates(req())
    assert denial is not None and denial[0] == "stale_quote"  # the quotes are 46 s old as well


@pytest.mark.parametrize("state", [TradingState.HALTED, TradingState.REDUCING])
def test_initial_state_from_config(state: TradingState) -> None:
    from inavd.risk.pipeline import build_gates

    u = k.universe()
    bus, clock = Bus(), SimClock(k.at(11, 0))
    ctl = TradingStateController(bus, clock)
    build_gates(
        RiskSettings(initial_state=state.value),
        universe=u,
        book=k.book(u, {"SH": (24.99, 25.01)}, k.at(11, 0)),
        positions=k.Positions(),
        clock=clock,
        session=k.session(),
        state=ctl,
        bus=bus,
    )
    assert ctl.state is state


def test_cached_exposure_follows_fills_working_orders_and_quotes() -> None:
    # the pipeline caches positions, gross/net and P&L per step: every change must show through
    gates, pos, _, _ = pipeline(k.at(11, 0))
    first = gates.check_for(req())
    assert (first.position, first.gross_usd, first.net_usd) == (0.0, 0.0, 0.0)
    pos.ledger.apply(fill("SH", Side.BUY, 100, 25.0))  # a fill between two orders of one step
    c = gates.check_for(req())
    assert c.position == 100 and c.settled_position == 100
    assert c.net_usd == pytest.approx(-2500.0)  # SH is −1x: 100 × 25.00 × −1
    pos.open["w"] = Order(req(Side.BUY, 50, symbol="SPY"), "b1", OrderStatus.NEW)
    c = gates.check_for(req())
    assert c.gross_usd == pytest.approx(2500.0 + 50 * 270.0)
    del pos.open["w"]
    gates.book.apply(QuoteBatch.of([k.at(11, 0, 1)], [gates.book.index["SH"]], [25.99], [26.01],
                                   [500], [500]))  # fmt: skip
    c = gates.check_for(req())
    assert c.net_usd == pytest.approx(-2600.0)
    assert c.pnl_usd == pytest.approx(100.0)


def one_by_one(c: OrderCheck, cfg: RiskSettings) -> g.Denial | None:
    for gate in g.GATES:
        denial = gate(c, cfg)
        if denial is not None:
            return denial
    return None


def test_the_chained_gates_answer_what_the_gates_answer_one_by_one() -> None:
    """The pipeline runs the default gates as one function compiled from their code: every
    gate's denial, a pass, and a denial from a gate inside another (extended hours)."""
    chained = g.CHAINED
    assert chained is not None
    tight = RiskSettings(max_gross_usd=1.0, spread_min_updates=200)
    cases = [
        check(),
        check(state=TradingState.HALTED, state_reason="operator"),
        check(position=300, state=TradingState.REDUCING),
        check(req(Side.SELL), position=300, state=TradingState.REDUCING),
        check(known=False),
        check(in_session=False),
        check(req(time_in_force=TimeInForce.CLS), after_moc_cutoff=True),
        check(req(Side.SELL)),
        check(req(qty=2.5, order_type=OrderType.LIMIT, limit_price=25.0)),
        check(req(Side.SELL), day_trade=True, day_trades=3, pdt_equity_usd=20_000.0),
        check(quote_age_s=11.0),
        check(inav_age_s=46.0),
        check(bid=25.02, ask=25.01),
        check(bid=24.985, ask=25.015),
        check(ask_size=99),
        check(req(order_type=OrderType.LIMIT, limit_price=26.0)),
        check(req(qty=4_000)),
        check(orders_last_minute=30),
        check(pnl_usd=-5_000.0),
    ]
    answers = [(one_by_one(c, cfg), chained(c, cfg)) for c in cases for cfg in (CFG, tight)]
    assert all(expected == got for expected, got in answers)
    assert len({expected for expected, _ in answers}) > 15  # nearly every gate denied once
    ext = RiskSettings(extended_hours=True)
    outside = check(in_session=False)
    denial = chained(outside, ext)
    assert denial == one_by_one(outside, ext) and denial is not None
    assert denial[0] == "extended_hours"
    # a failure inside a gate surfaces as it would from the gate itself
    with pytest.raises(AttributeError):
        chained(check(), None)  # type: ignore[arg-type]


def test_gates_that_cannot_be_chained_run_one_by_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runs: list[OrderCheck] = []

    def counted(c: OrderCheck, cfg: RiskSettings) -> g.Denial | None:  # a closure
        runs.append(c)
        return None

    def elsewhere(c: OrderCheck, cfg: RiskSettings) -> g.Denial | None:  # not a gates function
        return None

    assert g.chain((*g.GATES, counted)) is None
    assert g.chain((elsewhere,)) is None
    assert g.chain((lambda c, cfg: None,)) is None
    assert g.chain(g.GATES) is not None
    # a source that no longer compiles to the code the gate runs (the file changed on disk), or
    # no source at all
    changed = Path(g.__file__).read_text().replace("QTY_EPS", "PRICE_EPS")
    monkeypatch.setattr(g, "_source", lambda filename: changed)
    assert g.chain(g.GATES) is None
    monkeypatch.setattr(g, "_source", lambda filename: None)
    assert g.chain(g.GATES) is None
    monkeypatch.undo()
    gates, _, _, _ = pipeline(k.at(11, 0))
    gates.gates = (counted, *g.GATES)
    assert gates(req()) is None and len(runs) == 1


def test_the_chain_is_cached_for_its_own_source_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A second start loads the chain its first start compiled; a changed source, changed gate
    code or a damaged entry compiles afresh; nothing is written where bytecode is not."""
    monkeypatch.setattr(g.startup_cache, "folder_of", lambda module_file: str(tmp_path))
    monkeypatch.setattr(g.startup_cache.sys, "dont_write_bytecode", True)
    assert g.chain(g.GATES) is not None and not list(tmp_path.iterdir())
    monkeypatch.setattr(g.startup_cache.sys, "dont_write_bytecode", False)
    first = g.chain(g.GATES)
    (entry,) = tmp_path.iterdir()
    compiled: list[int] = []
    real = g._compile_chain

    def counting(*args: object) -> object:
        compiled.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(g, "_compile_chain", counting)
    loaded = g.chain(g.GATES)
    assert loaded is not None and first is not None and not compiled
    assert loaded.__code__.co_code == first.__code__.co_code
    for c in (check(), check(known=False), check(quote_age_s=11.0), check(req(qty=4_000))):
        assert loaded(c, CFG) == one_by_one(c, CFG)
    # another source: compiled again, and the entry replaced by the new one
    source = Path(g.__file__).read_text()
    monkeypatch.setattr(g, "_source", lambda filename: source + "\n# edited\n")
    assert g.chain(g.GATES) is not None and len(compiled) == 1
    assert g.chain(g.GATES) is not None and len(compiled) == 1
    monkeypatch.setattr(g, "_source", lambda filename: source)
    assert g.chain(g.GATES) is not None and len(compiled) == 2  # the real source's, again
    # gates whose code is not the code the entry was checked against
    (digest, codes), code = marshal.loads(entry.read_bytes())
    entry.write_bytes(marshal.dumps(((digest, codes[1:] + codes[:1]), code)))
    assert g.chain(g.GATES) is not None and len(compiled) == 3
    entry.write_bytes(b"not marshal")
    assert g.chain(g.GATES) is not None and len(compiled) == 4
    assert g.chain(g.GATES) is not None and len(compiled) == 4  # rewritten whole
    assert g.warm_cache() == str(entry) and len(compiled) == 5
