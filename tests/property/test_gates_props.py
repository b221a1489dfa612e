"""Gate properties: no passing order breaks a configured limit; HALTED passes nothing."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from inavd.domain.events import TradingState
from inavd.domain.orders import OrderRequest, Side
from inavd.risk.config import RiskSettings
from inavd.risk.gates import GATES, OrderCheck

CFG = RiskSettings(
    max_order_notional_usd=20_000,
    max_position_usd=50_000,
    max_gross_usd=120_000,
    max_net_usd=60_000,
    short_symbols=["SPY"],
)

prices = st.floats(5.0, 500.0)
qtys = st.integers(1, 5_000).map(float)
positions = st.integers(-3_000, 3_000).map(float)
betas = st.sampled_from([1.0, -1.0, -2.0, -3.0, 2.0, 3.0])


@st.composite
def checks(draw: st.DrawFn, state: TradingState = TradingState.ACTIVE) -> OrderCheck:
    mid = draw(prices)
    half = mid * draw(st.floats(1e-5, 5e-4))
    beta = draw(betas)
    pos = draw(positions)
    mine = pos * mid * beta
    other_gross = draw(st.floats(0, 120_000))
    other_net = draw(st.floats(-other_gross, other_gross))
    symbol = draw(st.sampled_from(["SPY", "SH"]))
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    req = OrderRequest("c", symbol, side, draw(qtys))
    return OrderCheck(
        req,
        now_ns=0,
        state=state,
        bid=mid - half,
        ask=mid + half,
        bid_size=1_000,
        ask_size=1_000,
        spread_mean_bp=20.0,
        spread_std_bp=5.0,
        spread_updates=100,
        beta=beta,
        position=pos,
        settled_position=pos,
        gross_usd=other_gross + abs(mine),
        net_usd=other_net + mine,
        short_enabled=symbol == "SPY",
        venue_shortable=draw(st.booleans()),
    )


def passes(c: OrderCheck) -> bool:
    return all(gate(c, CFG) is None for gate in GATES)


def within_limits(c: OrderCheck, pos: float, gross: float, net: float) -> bool:
    return (
        abs(pos) * c.mid <= CFG.max_position_usd + 1e-6
        and gross <= CFG.max_gross_usd + 1e-6
        and abs(net) <= CFG.max_net_usd + 1e-6
    )


@settings(max_examples=400, deadline=None)
@given(checks())
def test_a_passing_order_never_breaks_a_limit(c: OrderCheck) -> None:
    assume(within_limits(c, c.position, c.gross_usd, c.net_usd))
    if not passes(c):
        return
    after = c.position + c.delta
    gross, net = c.exposure_after()
    assert c.req.qty * c.price <= CFG.max_order_notional_usd
    assert within_limits(c, after, gross, net)
    if after < 0 and after < c.position:  # opened or extended a short
        assert c.req.symbol in CFG.short_symbols and c.venue_shortable


@settings(max_examples=200, deadline=None)
@given(checks(TradingState.HALTED))
def test_halted_lets_nothing_through(c: OrderCheck) -> None:
    assert not passes(c)


@settings(max_examples=200, deadline=None)
@given(checks(TradingState.REDUCING))
def test_reducing_only_lets_exposure_shrink(c: OrderCheck) -> None:
    if passes(c):
        after = c.position + c.delta
        assert abs(after) < abs(c.position)
        assert after == 0 or (after > 0) == (c.position > 0)
