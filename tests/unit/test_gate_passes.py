"""`passes_all` says an order passes exactly when every gate of `GATES` lets it through."""

from __future__ import annotations

import math
import random

from inavd.domain.events import TradingState
from inavd.domain.orders import OrderRequest, OrderType, Side, TimeInForce
from inavd.risk.config import RiskSettings
from inavd.risk.gates import GATES, OrderCheck
from inavd.risk.passes import passes_all

NAN, INF = math.nan, math.inf


# a check every default gate passes, and for each field the values that probe its gates' edges
BASE: dict[str, object] = dict(
    now_ns=0, state=TradingState.ACTIVE, state_reason="why", known=True, bid=24.99, ask=25.01,
    bid_size=500.0, ask_size=500.0, quote_age_s=0.0, spread_mean_bp=8.0, spread_std_bp=1.0,
    spread_updates=100, is_fund=True, inav_age_s=0.0, beta=-1.0, position=0.0,
    settled_position=0.0, gross_usd=0.0, net_usd=0.0, pnl_usd=0.0, orders_last_minute=0,
    in_session=True, after_moc_cutoff=False, short_enabled=True, venue_shortable=True,
    easy_to_borrow=True, fractionable=True, day_trade=True, day_trades=0, pdt_equity_usd=NAN,
    pdt_flagged=False,
)  # fmt: skip
B: list[object] = [True, False]
EDGES: dict[str, list[object]] = dict(
    state=list(TradingState), known=B, bid=[25.0, 25.01, 25.0000001, 0.0, -1.0, NAN, 24.0],
    ask=[25.0, 24.99, 25.0000001, 0.0, NAN, 30.0, 26.0], bid_size=[0.0, 99.0, 100.0, NAN],
    ask_size=[0.0, 99.0, 100.0, NAN], quote_age_s=[9.9, 10.0, 10.1, INF],
    spread_mean_bp=[0.0, 1.0, 5.0, NAN], spread_std_bp=[0.0, 5.0], spread_updates=[0, 19, 20],
    is_fund=B, inav_age_s=[45.0, 46.0, INF], beta=[1.0, 3.0, -2.0],
    position=[100.0, -100.0, 50.0, 0.5, 3000.0, -3000.0],
    settled_position=[100.0, -100.0, 50.0, 0.5, 3000.0, -3000.0],
    gross_usd=[400_000.0, 499_000.0, 600_000.0], net_usd=[240_000.0, -249_000.0, -300_000.0],
    pnl_usd=[-4_999.0, -5_000.0, -6_000.0, NAN], orders_last_minute=[29, 30], in_session=B,
    after_moc_cutoff=B, short_enabled=B, venue_shortable=B, easy_to_borrow=B, fractionable=B,
    day_trade=B, day_trades=[2, 3, 4], pdt_equity_usd=[10_000.0, 25_000.0, 30_000.0],
    pdt_flagged=B,
)  # fmt: skip


def random_case(rng: random.Random) -> tuple[OrderCheck, RiskSettings]:
    """The passing check with up to five fields moved to one of their edge values, a request
    that is mostly a market DAY order, and mostly the default limits."""

    def pick(*values: object) -> object:
        return values[0] if rng.random() < 0.5 else rng.choice(values)

    req = OrderRequest(
        "c1",
        str(pick("SH", "SPY", "SDS")),
        rng.choice(list(Side)),
        float(pick(100.0, 1.0, 0.5, 50.0, 150.0, 3000.0, 10.25)),  # type: ignore[arg-type]
        pick(OrderType.MARKET, *OrderType),  # type: ignore[arg-type]
        pick(TimeInForce.DAY, *TimeInForce),  # type: ignore[arg-type]
        pick(None, 25.0, 25.2, 24.0, 26.0),  # type: ignore[arg-type]
    )
    values = dict(BASE)
    for name in rng.sample(sorted(EDGES), rng.randint(0, 5)):
        values[name] = rng.choice(EDGES[name])
    cfg = RiskSettings(
        extended_hours=pick(False, True),
        spread_gate_exits=pick(False, True),
        spread_slack_bp=pick(0.0, 100.0),
        max_order_notional_usd=pick(50_000.0, 2_000.0),
        max_position_usd=pick(100_000.0, 2_000.0),
        position_limits_usd=pick({}, {"SH": 60_000.0}, {"SDS": 10.0}),
        max_gross_usd=pick(500_000.0, 2_000.0),
        max_net_usd=pick(250_000.0, 2_000.0),
        price_collar_bp=pick(50.0, 500.0),
    )
    return OrderCheck(req, **values), cfg  # type: ignore[arg-type]


def test_passes_all_is_every_gate_passing() -> None:
    rng, passed = random.Random(14), 0
    for _ in range(40_000):
        c, cfg = random_case(rng)
        expected = all(gate(c, cfg) is None for gate in GATES)
        assert passes_all(c, cfg) == expected, c
        passed += expected
    assert 4_000 < passed < 36_000  # both answers well represented


def test_a_normal_order_passes_and_each_kind_of_denial_does_not() -> None:
    r = OrderRequest("c1", "SH", Side.BUY, 100.0)
    ok = OrderCheck(r, **BASE)  # type: ignore[arg-type]
    cfg = RiskSettings()
    assert passes_all(ok, cfg)
    for field, value in [("state", TradingState.HALTED), ("in_session", False),
                         ("ask_size", 10.0), ("quote_age_s", 11.0), ("pnl_usd", -6_000.0),
                         ("orders_last_minute", 30), ("spread_updates", 3)]:  # fmt: skip
        bad = OrderCheck(r, **{**BASE, field: value})  # type: ignore[arg-type]
        assert not passes_all(bad, cfg), field
        assert any(gate(bad, cfg) is not None for gate in GATES), field
