"""The gate pipeline's memory of decisions: an order identical to one judged on an unchanged state
(from the second order judged at one clock reading on) gets the same answer without the gates
running again, and any change to what a gate reads (a
quote, a fill, a working order, the trading state, the time, the limits, the order rate, the
venue's rules) makes every order be judged afresh."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.kit import strategy as k

from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import TradingState
from inavd.domain.orders import Fill, Order, OrderRequest, OrderStatus, Side, TimeInForce
from inavd.domain.units import NS_PER_S
from inavd.risk.config import RiskSettings
from inavd.risk.gates import GATES, Denial, OrderCheck
from inavd.risk.pipeline import RiskGates, universe_beta
from inavd.risk.state import TradingStateController

T0 = k.at(11, 0)


@dataclass
class Rig:
    gates: RiskGates
    pos: k.Positions
    clock: SimClock
    state: TradingStateController
    runs: list[OrderCheck]  # every check the gates actually ran on


def rig(cfg: RiskSettings | None = None) -> Rig:
    u = k.universe()
    book = k.book(u, {"SPY": (269.99, 270.01), "SH": (24.99, 25.01)}, T0)
    bus, clock = Bus(), SimClock(T0)
    state = TradingStateController(bus, clock)
    pos = k.Positions()
    runs: list[OrderCheck] = []

    def counted(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
        runs.append(c)
        return None

    gates = RiskGates(
        cfg or RiskSettings(),
        book=book,
        positions=pos,
        clock=clock,
        session=k.session(),
        state=state,
        beta=universe_beta(u),
        funds=frozenset(f.symbol for f in u.funds),
        shortable=lambda s: s == "SPY",
        gates=(counted, *GATES),
    )
    gates.attach(bus)
    bus.publish(k.event(u, T0, {"SH": 25.0}))
    return Rig(gates, pos, clock, state, runs)


def buy(qty: float = 100, symbol: str = "SH", coid: str = "c1") -> OrderRequest:
    return OrderRequest(coid, symbol, Side.BUY, qty)


def fill(symbol: str, side: Side, qty: float, price: float) -> Fill:
    return Fill(T0, "x", "b", symbol, side, qty, price, "e")


def remembered(r: Rig, req: OrderRequest) -> Denial | None:
    """The decision on `req`, judged and then remembered for the state as it is now."""
    first = r.gates(req)
    r.gates.sent.clear()  # a pass is sent: forget it, so the order rate is as before
    assert r.gates(req) == first  # judged again (the same moment), now remembered
    r.gates.sent.clear()
    runs = len(r.runs)
    again = r.gates(req)
    r.gates.sent.clear()
    assert again == first and len(r.runs) == runs, "not remembered on an unchanged state"
    return first


def quote(r: Rig, symbol: str, bid: float, ask: float, size: float = 500.0) -> None:
    book = r.gates.book
    r.gates.book.apply(k.quote_batch(book, {symbol: (bid, ask)}, r.clock.now_ns(), size))


def test_an_identical_order_on_an_unchanged_state_is_not_judged_again() -> None:
    r = rig(RiskSettings(max_orders_per_minute=3))
    assert r.gates(buy()) is None
    assert r.gates(buy(coid="c2")) is None  # a passed order was sent: the rate moved, re-judged
    assert len(r.runs) == 2
    r.gates.sent.clear()  # as if those orders had left the minute
    assert r.gates(buy(coid="c3")) is None
    assert r.gates(buy(coid="c4")) is None
    runs = len(r.runs)
    # denials are remembered: same order, same state, no gate runs, same answer
    thin = RiskSettings(max_orders_per_minute=3, max_order_notional_usd=1_000)
    r.gates.cfg = thin
    first = r.gates(buy(coid="c5"))
    assert first is not None and first[0] == "max_order_notional"
    assert r.gates(buy(coid="c6")) == first
    assert r.gates(buy(coid="c7")) == first
    assert len(r.runs) == runs + 1
    # a different order on the same state is judged
    assert r.gates(buy(qty=10, coid="c8")) is None
    assert len(r.runs) == runs + 2


def test_a_remembered_pass_still_counts_for_the_order_rate_and_day_trades() -> None:
    r = rig(RiskSettings(max_orders_per_minute=2))
    assert r.gates(buy()) is None  # the first order at a new clock reading: judged
    r.gates.sent.clear()
    assert r.gates(buy(coid="c2")) is None  # the same moment again: judged and remembered
    sent = list(r.gates.sent)
    r.gates.sent.clear()
    assert r.gates(buy(coid="c3")) is None  # the same state as for c2: remembered
    assert len(r.runs) == 2
    assert list(r.gates.sent) == sent  # still recorded as sent
    assert "c3" in r.gates._passed  # and its day-trade bookkeeping still follows the submit
    assert r.gates(buy(coid="c4")) is None
    assert r.gates(buy(coid="c5")) == ("order_rate", "2 orders in the last minute")


def test_nothing_is_remembered_across_clock_readings() -> None:
    r = rig()
    for n in range(3):
        r.clock.advance_to(T0 + n + 1)
        assert r.gates(buy(coid=f"c{n}")) is None
        r.gates.sent.clear()
    assert len(r.runs) == 3


def test_a_quote_makes_a_remembered_denial_be_judged_again() -> None:
    r = rig()
    quote(r, "SH", 24.99, 25.01, size=50)  # thin: 50 shares displayed
    assert remembered(r, buy()) == ("displayed_size", "50 shares displayed < 100")
    quote(r, "SH", 24.99, 25.01, size=500)
    assert r.gates(buy()) is None


def test_a_quote_makes_a_remembered_pass_be_judged_again() -> None:
    r = rig()
    assert remembered(r, buy()) is None
    quote(r, "SH", 24.99, 25.01, size=50)
    assert r.gates(buy()) == ("displayed_size", "50 shares displayed < 100")


def test_a_fill_makes_a_remembered_pass_be_judged_again() -> None:
    r = rig(RiskSettings(max_position_usd=3_000))
    assert remembered(r, buy()) is None  # 100 × 25 = 2,500 ≤ 3,000
    r.pos.ledger.apply(fill("SH", Side.BUY, 100, 25.0))
    denial = r.gates(buy())
    assert denial is not None and denial[0] == "max_position"  # 200 × 25 = 5,000


def test_a_working_order_makes_a_remembered_pass_be_judged_again() -> None:
    r = rig(RiskSettings(max_position_usd=3_000))
    assert remembered(r, buy()) is None
    working = buy(coid="w1")
    r.pos.open["w1"] = Order(working, "b1", OrderStatus.NEW)
    denial = r.gates(buy())
    assert denial is not None and denial[0] == "max_position"
    del r.pos.open["w1"]  # canceled: the order fits again
    assert r.gates(buy()) is None


def test_a_halt_and_its_release_are_seen_at_once() -> None:
    r = rig()
    assert remembered(r, buy()) is None
    r.state.set(TradingState.HALTED, "operator")
    assert r.gates(buy()) == ("trading_state", "halted (operator)")
    r.state.set(TradingState.ACTIVE, "operator", operator=True)
    assert remembered(r, buy()) is None
    r.state.set(TradingState.REDUCING, "operator")
    assert r.gates(buy()) == ("trading_state", "reducing: only exposure-reducing orders")


def test_time_passing_makes_a_quote_stale() -> None:
    r = rig()
    assert remembered(r, buy()) is None
    r.clock.advance_to(T0 + 11 * NS_PER_S)  # the last SH quote is now 11 s old > 10 s
    denial = r.gates(buy())
    assert denial is not None and denial[0] == "stale_quote"
    quote(r, "SH", 24.99, 25.01)
    assert r.gates(buy()) is None


def test_a_new_inav_evaluation_clears_a_stale_inav_denial() -> None:
    r = rig(RiskSettings(max_quote_age_s=120))
    r.clock.advance_to(T0 + 46 * NS_PER_S)
    denial = remembered(r, buy())
    assert denial is not None and denial[0] == "stale_inav"
    r.gates.state.bus.publish(k.event(k.universe(), r.clock.now_ns(), {"SH": 25.0}))
    assert r.gates(buy()) is None


def test_a_limit_change_is_applied_to_the_next_order() -> None:
    r = rig()
    assert remembered(r, buy()) is None
    r.gates.cfg = RiskSettings(max_order_notional_usd=1_000)
    assert r.gates(buy()) == ("max_order_notional", "2,501 USD > 1,000")
    r.gates.cfg = RiskSettings()
    assert r.gates(buy()) is None


def test_new_limits_bring_their_short_list_and_auction_cutoff() -> None:
    r = rig()
    short = OrderRequest("s1", "SPY", Side.SELL, 10)
    assert remembered(r, short) == ("short_sale", "short sales of SPY are not enabled")
    r.gates.cfg = RiskSettings(short_symbols=["SPY"])
    assert r.gates(short) is None
    r.gates.sent.clear()
    # 15:52 ET: after the default cutoff (close − 10 min), before one of close − 5 min
    r.clock.advance_to(k.at(15, 52))
    r.gates.state.bus.publish(k.event(k.universe(), r.clock.now_ns(), {"SH": 25.0}))
    quote(r, "SH", 24.99, 25.01)
    moc = OrderRequest("m1", "SH", Side.BUY, 10, time_in_force=TimeInForce.CLS)
    assert r.gates(moc) == ("moc_cutoff", "closing-auction order after close − 10 min")
    r.gates.cfg = RiskSettings(moc_cutoff_min=5)
    assert r.gates(moc) is None


def test_the_venue_rules_are_part_of_the_state() -> None:
    r = rig(RiskSettings(short_symbols=["SPY"]))
    short = OrderRequest("s1", "SPY", Side.SELL, 10)
    assert remembered(r, short) is None
    # the broker's rules arrive (as `VenueRules.load` leaves them): SPY is hard to borrow now
    r.gates.rules.flags["SPY"] = (True, False, True)
    assert r.gates(short) == ("hard_to_borrow", "SPY is hard to borrow: never shorted")
    r.gates.rules.flags["SPY"] = (True, True, True)
    r.gates.rules.pdt_flagged = True  # an account-level change is a new state as well
    assert r.gates(short) is None


def test_a_daily_loss_denial_halts_every_time_it_is_reached() -> None:
    r = rig()
    r.pos.ledger.apply(fill("SH", Side.BUY, 4000, 26.30))  # −5,200 USD at the 25.00 mid
    denial = r.gates(OrderRequest("x", "SH", Side.SELL, 100))
    assert denial is not None and denial[0] == "daily_loss"
    assert r.state.state is TradingState.HALTED


def test_a_remembered_answer_always_equals_a_fresh_judgement() -> None:
    """A seeded random walk over everything a gate reads, with orders repeated in between:
    every answer equals the gates run afresh on a check built at that moment."""
    rng = random.Random(14)
    r = rig(RiskSettings(max_position_usd=6_000, max_orders_per_minute=6))
    now, remembered_answers = T0, 0
    for _ in range(3_000):
        op = rng.random()
        if op < 0.15:
            sym = rng.choice(["SH", "SPY"])
            mid = 25.0 if sym == "SH" else 270.0
            half = rng.choice([0.01, 0.01, 0.02, 0.05])
            quote(r, sym, mid - half, mid + half, size=rng.choice([50.0, 500.0]))
        elif op < 0.22:
            now += rng.choice([1, 1_000_000, 11 * NS_PER_S])
            r.clock.advance_to(now)
        elif op < 0.27:
            side = rng.choice([Side.BUY, Side.SELL])
            r.pos.ledger.apply(Fill(now, f"f{_}", "b", "SH", side, 100, 25.0, f"e{_}"))
        elif op < 0.30:
            if r.pos.open:
                r.pos.open.clear()
            else:
                r.pos.open["w"] = Order(buy(coid="w"), "b", OrderStatus.NEW)
        elif op < 0.32:
            state = rng.choice(list(TradingState))
            r.state.set(state, "test", operator=True)
        elif op < 0.34:
            r.gates.cfg = RiskSettings(max_position_usd=rng.choice([3_000, 6_000]))
        elif op < 0.40:
            r.gates.sent.clear()
        elif op < 0.42:
            r.gates.state.bus.publish(k.event(k.universe(), now, {"SH": 25.0}))
        else:
            req = OrderRequest("o", rng.choice(["SH", "SPY"]), rng.choice([Side.BUY, Side.SELL]),
                               rng.choice([10, 100]))  # fmt: skip
            runs = len(r.runs)
            fresh = r.gates._run(r.gates.check_for(req))
            del r.runs[runs:]
            assert r.gates(req) == fresh
            remembered_answers += len(r.runs) == runs
    assert remembered_answers > 100  # the walk did exercise the memory
