"""The pipeline against the gates: over random states and orders (boundaries included: a spread, a
notional, a position or an exposure exactly at its limit), what the pipeline answers, judged afresh,
remembered or from memory, is exactly what the gates answer one by one on a check built at that
moment."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit import strategy as k

from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import TradingState
from inavd.domain.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from inavd.domain.units import NS_PER_S
from inavd.risk.config import RiskSettings
from inavd.risk.gates import GATES, Denial, OrderCheck
from inavd.risk.pipeline import RiskGates, universe_beta
from inavd.risk.state import TradingStateController

U = k.universe()
SYMBOLS = ["SPY", "QQQ", "SH", "SDS", "PSQ", "ZZZ"]  # ZZZ is not in the book
MIDS = {"SPY": 270.0, "QQQ": 190.0, "SH": 25.0, "SDS": 30.0, "SSO": 60.0, "PSQ": 20.0}
OPEN = k.at(11, 0)
TIMES = [k.at(9, 0), OPEN, k.at(15, 49, 59), k.at(15, 50, 1), k.at(16, 30)]


def gates_answer(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    for gate in GATES:
        denial = gate(c, cfg)
        if denial is not None:
            return denial
    return None


# each case is an ordinary order on an ordinary state (every gate passes) with up to two of
# these moved, each to values at or next to a gate's limit
MOVES = ("quote", "sizes", "updates", "age", "spread", "state", "time", "held", "working",
         "notional", "position", "gross", "net", "rate", "loss", "short", "pdt", "inav", "limit",
         "tif", "qty", "symbol", "moc", "hours")  # fmt: skip


def below(x: float) -> float:
    return math.nextafter(x, -math.inf)


@st.composite
def cases(draw: st.DrawFn) -> tuple[RiskGates, OrderRequest]:
    moved = draw(st.sets(st.sampled_from(MOVES), max_size=2))

    def pick(move: str, usual: object, *edges: object) -> object:
        return draw(st.sampled_from(edges)) if move in moved else usual

    now = pick("time", OPEN, *TIMES)
    assert isinstance(now, int)
    book = k.book(U, {s: (m - 0.01, m + 0.01) for s, m in MIDS.items()}, OPEN - NS_PER_S, warm=2)
    sym = str(pick("symbol", draw(st.sampled_from(["SH", "SDS"])), *SYMBOLS))
    mid = MIDS.get(sym, 50.0)
    sides = {"short", "sizes", "held", "working", "state", "gross", "net"} & moved
    side = draw(st.sampled_from([Side.BUY, Side.SELL])) if sides else Side.BUY
    qty = float(pick("qty", 10.0, 1.0, 400.0, 10.5, 1 + 1e-10, 0.25))  # type: ignore[arg-type]
    tif = pick("tif", TimeInForce.DAY, *TimeInForce)
    assert isinstance(tif, TimeInForce)
    limit = "limit" in moved
    if "moc" in moved:  # a closing-auction order either side of the cutoff
        now = draw(st.sampled_from([k.at(15, 49, 59), k.at(15, 50), k.at(15, 50, 1)]))
        tif = TimeInForce.CLS
    if "hours" in moved:  # outside regular hours: what the venue takes then
        now = draw(st.sampled_from([k.at(9, 0), k.at(16, 30)]))
        tif = draw(st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.OPG]))
        limit = draw(st.booleans())
    if limit:
        off = draw(st.sampled_from([0.0, 0.001, 0.005, -0.005, 0.0051, -0.2]))
        req = OrderRequest("c", sym, side, qty, OrderType.LIMIT, tif, mid * (1 + off))
    else:
        req = OrderRequest("c", sym, side, qty, OrderType.MARKET, tif)
    i = book.index.get(sym)
    if i is not None:  # the order's symbol: its quote, sizes, age and spread history
        half = float(pick("quote", 0.01, 0.0, -0.01, 1e-12, 0.05))  # type: ignore[arg-type]
        book.bid[i] = pick("quote", mid - half, mid - half, 0.0, math.nan)
        book.ask[i] = mid + half
        book.bid_size[i] = pick("sizes", 500.0, 0.0, 99.0, 100.0)
        book.ask_size[i] = pick("sizes", 500.0, 0.0, 99.0, 100.0)
        book.updates[i] = pick("updates", 100, 0, 1, 19, 20)
        book.last_ns[i] = now - int(pick("age", 0, 10, 11, 600)) * NS_PER_S  # type: ignore[call-overload]
        sp = (book.ask[i] - book.bid[i]) / ((book.ask[i] + book.bid[i]) * 0.5) * 1e4
        book.spread_mean_bp[i] = pick(
            "spread", sp, sp, below(sp), sp - 3.0, below(sp - 3.0), math.nan
        )
        book.spread_var_bp2[i] = pick("spread", 1.0, 0.0, 1.0)
        book.accepted += 1
    bus, clock = Bus(), SimClock(now)
    state = TradingStateController(bus, clock)
    state.set(pick("state", TradingState.ACTIVE, *TradingState), "test", durable=False)  # type: ignore[arg-type]
    pos = k.Positions()
    if {"held", "short", "state", "gross", "net", "loss"} & moved:
        for s in draw(st.lists(st.sampled_from([sym, "SPY", "SDS"]), max_size=3)):
            fill_side = draw(st.sampled_from([Side.BUY, Side.SELL]))
            fill_qty = draw(st.sampled_from([5.0, 10.0, 100.0]))
            pos.ledger.apply(Fill(0, "x", "b", s, fill_side, fill_qty, MIDS.get(s, 50.0), "e"))
    if side is Side.SELL and "short" not in moved:  # a sale out of a holding
        pos.ledger.apply(Fill(0, "x", "b", sym, Side.BUY, 100.0, mid, "e"))
    if "working" in moved:
        w_side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        working = OrderRequest("w", draw(st.sampled_from([sym, "SPY"])), w_side, 10.0)
        pos.open["w"] = Order(working, "b1", OrderStatus.NEW)
    short_symbols = pick("short", [], [], [sym])
    cfg = RiskSettings(
        spread_slack_bp=pick("spread", 0.0, 0.0, 1.0),
        spread_gate_exits=pick("spread", False, False, True),
        extended_hours="hours" in moved and draw(st.booleans()),
        short_symbols=short_symbols,
        shortable=["SPY", "QQQ"],
        max_orders_per_minute=pick("rate", 30, 1, 2),
        daily_loss_limit_usd=pick("loss", 5_000.0, 50.0, 1.0),
    )  # type: ignore[arg-type]
    gates = RiskGates(
        cfg, book=book, positions=pos, clock=clock, session=k.session(), state=state,
        beta=universe_beta(U), funds=frozenset(f.symbol for f in U.funds),
        shortable=frozenset(["SPY", "QQQ", "SDS"]).__contains__,
    )  # fmt: skip
    gates.attach(bus)
    gates.last_inav_ns = pick("inav", now, None, now - 45 * NS_PER_S, now - 46 * NS_PER_S)  # type: ignore[assignment]
    gates.sent.extend([now] * int(pick("rate", 0, 0, 1, 2)))  # type: ignore[call-overload]
    gates.rules.flags[sym] = (
        bool(pick("short", True, True, False)),
        bool(pick("short", True, True, False)),
        bool(pick("qty", True, True, False)),
    )
    if "pdt" in moved:
        gates.rules.pdt_equity_usd = draw(st.sampled_from([math.nan, 20_000.0, 30_000.0]))
        gates.rules.pdt_flagged = draw(st.booleans())
        gates.rules.prior_day_trades = draw(st.sampled_from([0, 3]))
        opened = draw(st.sampled_from([{}, {sym: 50.0}]))
        gates.day_trades.opened_long, gates.day_trades.opened_short = dict(opened), dict(opened)
        pos.ledger.apply(Fill(0, "x", "b", sym, draw(st.sampled_from(list(Side))), 20.0, mid, "e"))
    gates.carried_pnl_usd = float(pick("loss", 0.0, -60.0, -1.0, 0.0))  # type: ignore[arg-type]
    # limits at or next to what this very order reaches
    c = gates.check_for(req)
    gross, net = c.exposure_after()
    notional = req.qty * c.price
    usd = abs(c.position + c.delta) * c.mid
    limits: dict[str, object] = {}
    if "notional" in moved:
        limits["max_order_notional_usd"] = draw(st.sampled_from([notional, below(notional)]))
    if "position" in moved:
        key = draw(st.sampled_from(["max_position_usd", "position_limits_usd"]))
        lim = draw(st.sampled_from([usd, below(usd)]))
        limits[key] = {sym: lim} if key == "position_limits_usd" else lim
    if "gross" in moved:
        limits["max_gross_usd"] = draw(st.sampled_from([gross, below(gross)]))
    if "net" in moved:
        limits["max_net_usd"] = draw(st.sampled_from([abs(net), below(abs(net))]))
    if limits:
        limits = {key: v for key, v in limits.items() if not isinstance(v, float) or v > 0}
        gates.cfg = cfg.model_copy(update=limits)
    return gates, req


@settings(max_examples=1_500, deadline=None)
@given(cases())
def test_the_pipeline_answers_what_the_gates_answer(case: tuple[RiskGates, OrderRequest]) -> None:
    gates, req = case
    expected = gates_answer(gates.check_for(req), gates.cfg)
    sent = len(gates.sent)
    assert gates(req) == expected
    if expected is not None and expected[0] == "daily_loss":
        assert gates.state.state is TradingState.HALTED
        return
    for _ in range(2):  # the same moment again: judged and remembered, then from memory
        while len(gates.sent) > sent:  # a pass was sent: forget it, the order rate as before
            gates.sent.pop()
        assert gates(req) == expected


def test_a_walk_over_states_with_the_default_gates() -> None:
    """A seeded random walk over everything a gate reads, orders repeated in between: every
    answer equals the gates run one by one on a check built at that moment."""
    rng = random.Random(14)
    now = OPEN
    book = k.book(U, {s: (m - 0.01, m + 0.01) for s, m in MIDS.items()}, now)
    bus, clock = Bus(), SimClock(now)
    state = TradingStateController(bus, clock)
    pos = k.Positions()
    gates = RiskGates(
        RiskSettings(max_position_usd=6_000, max_orders_per_minute=6, short_symbols=["SPY"]),
        book=book, positions=pos, clock=clock, session=k.session(), state=state,
        beta=universe_beta(U), funds=frozenset(f.symbol for f in U.funds),
        shortable=lambda s: s == "SPY",
    )  # fmt: skip
    gates.attach(bus)
    passed = 0
    for n in range(4_000):
        op = rng.random()
        if op < 0.15:
            sym = rng.choice(["SH", "SPY"])
            half = rng.choice([0.01, 0.01, 0.02, 0.05])
            quotes = {sym: (MIDS[sym] - half, MIDS[sym] + half)}
            book.apply(k.quote_batch(book, quotes, now, rng.choice([50.0, 500.0])))
        elif op < 0.22:
            now += rng.choice([1, 1_000_000, 11 * NS_PER_S])
            clock.advance_to(now)
        elif op < 0.27:
            side = rng.choice([Side.BUY, Side.SELL])
            pos.ledger.apply(Fill(now, f"f{n}", "b", "SH", side, 100, 25.0, f"e{n}"))
        elif op < 0.30:
            if pos.open:
                pos.open.clear()
            else:
                pos.open["w"] = Order(OrderRequest("w", "SH", Side.BUY, 100), "b", OrderStatus.NEW)
        elif op < 0.32:
            state.set(rng.choice(list(TradingState)), "test", operator=True)
        elif op < 0.34:
            gates.cfg = RiskSettings(
                max_position_usd=rng.choice([3_000, 6_000]), short_symbols=["SPY"]
            )
        elif op < 0.40:
            gates.sent.clear()
        elif op < 0.42:
            bus.publish(k.event(U, now, {"SH": 25.0}))
        else:
            req = OrderRequest("o", rng.choice(["SH", "SPY"]), rng.choice([Side.BUY, Side.SELL]),
                               rng.choice([10, 100]))  # fmt: skip
            expected = gates_answer(gates.check_for(req), gates.cfg)
            passed += expected is None
            assert gates(req) == expected
    assert passed > 150  # the walk did pass orders
