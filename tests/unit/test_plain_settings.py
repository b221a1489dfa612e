"""`inavd.domain.plain`: the plain copies the gates and the signals read their settings from hold
exactly the model's values, cannot be changed, and decide exactly as the model would."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from inavd.domain.orders import OrderRequest, Side
from inavd.domain.plain import plain
from inavd.risk.config import RiskSettings
from inavd.risk.gates import GATES, OrderCheck
from inavd.signals.config import PremiumArbSettings, VolHedgeSettings
from inavd.sizing.config import SizingSettings
from inavd.sizing.kelly import Sizer

MODELS: list[BaseModel] = [
    RiskSettings(),
    RiskSettings(
        max_position_usd=6_000,
        position_limits_usd={"SH": 2_000},
        short_symbols=["SPY"],
        spread_slack_bp=1.5,
        extended_hours=True,
    ),
    SizingSettings(vol_target=0.2, fractional_symbols=["SPY"]),
    PremiumArbSettings(overrides={"SH": {"threshold_bp": 3.0}}).for_symbol("SH"),
    VolHedgeSettings(portfolio_beta_usd={"SPY": 50_000.0}, vix=20.0),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_a_plain_copy_holds_every_field_of_the_model(model: BaseModel) -> None:
    view = plain(model)
    for name in type(model).model_fields:
        assert getattr(view, name) is getattr(model, name)  # the very objects, nothing converted
    assert type(view) is not type(model)
    with pytest.raises(AttributeError):
        view.enabled = False  # type: ignore[misc]
    with pytest.raises(AttributeError):
        view.model_copy()  # fields only
    assert type(plain(model)) is type(view)  # one class per model class


def test_a_plain_copy_of_an_overridden_section_reads_the_override() -> None:
    arb = PremiumArbSettings(overrides={"SH": {"threshold_bp": 3.0}})
    assert plain(arb.for_symbol("SH")).threshold_bp == 3.0
    assert plain(arb.for_symbol("SDS")).threshold_bp == arb.threshold_bp


@st.composite
def checks(draw: st.DrawFn) -> OrderCheck:
    mid = draw(st.floats(5.0, 500.0))
    half = mid * draw(st.sampled_from([0.0, 1e-5, 2e-4, 5e-3]))
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    req = OrderRequest("c", draw(st.sampled_from(["SH", "SPY"])), side,
                       draw(st.sampled_from([1.0, 10.5, 400.0, 5_000.0])))  # fmt: skip
    pos = draw(st.sampled_from([0.0, 100.0, -100.0, 3_000.0]))
    return OrderCheck(
        req,
        now_ns=0,
        bid=mid - half,
        ask=mid + half,
        bid_size=draw(st.sampled_from([0.0, 100.0, 1_000.0])),
        ask_size=draw(st.sampled_from([0.0, 100.0, 1_000.0])),
        quote_age_s=draw(st.sampled_from([0.0, 10.0, 11.0])),
        spread_mean_bp=draw(st.sampled_from([math.nan, 0.5, 20.0])),
        spread_std_bp=draw(st.sampled_from([0.0, 0.3, 5.0])),
        spread_updates=draw(st.sampled_from([0, 19, 20, 100])),
        is_fund=draw(st.booleans()),
        inav_age_s=draw(st.sampled_from([0.0, 46.0])),
        position=pos,
        settled_position=pos,
        gross_usd=draw(st.sampled_from([0.0, 400_000.0, 600_000.0])),
        net_usd=draw(st.sampled_from([0.0, -240_000.0, 300_000.0])),
        pnl_usd=draw(st.sampled_from([0.0, -5_000.0])),
        orders_last_minute=draw(st.sampled_from([0, 30])),
        in_session=draw(st.booleans()),
        short_enabled=draw(st.booleans()),
        venue_shortable=draw(st.booleans()),
    )


@settings(max_examples=400, deadline=None)
@given(checks(), st.sampled_from(MODELS[:2]))
def test_every_gate_answers_the_same_on_the_plain_copy(c: OrderCheck, cfg: BaseModel) -> None:
    assert isinstance(cfg, RiskSettings)
    limits = plain(cfg)
    for gate in GATES:
        assert gate(c, limits) == gate(c, cfg)


def test_the_sizer_sizes_the_same_from_its_plain_copy() -> None:
    cfg = SizingSettings(vol_target=0.2, min_order_notional_usd=500.0)
    sizer, model = Sizer(cfg), Sizer(cfg)
    model._c = cfg  # the model itself, as before the copy
    for edge in (0.5, 3.0, 12.0):
        for vol in (None, 0.1, 0.4):
            for lev in (1.0, -1.0, 3.0):
                args = ("SH", 25.0, edge, 8.0, vol, lev)
                assert sizer.shares(*args) == model.shares(*args)
    assert sizer.shares_for_notional("SH", 25.0, 900.0) == model.shares_for_notional(
        "SH", 25.0, 900.0
    )


def test_new_limits_given_to_the_gates_are_the_ones_they_read() -> None:
    from tests.unit.test_gate_decisions import buy, rig

    r = rig()
    assert r.gates(buy()) is None
    r.gates.sent.clear()
    r.gates.cfg = RiskSettings(max_order_notional_usd=1_000)  # 100 SH at 25 is 2,501 USD
    assert r.gates.cfg.max_order_notional_usd == 1_000
    assert r.gates(buy(coid="c2")) == ("max_order_notional", "2,501 USD > 1,000")
