"""Costs: SEC section 31 fee and FINRA TAF on sales, commission, borrow, round-trip estimate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inavd.costs import CostModel, CostSettings
from inavd.domain.orders import Side


def test_fee_on_a_known_sell() -> None:
    m = CostModel()  # 20.70 USD per million, TAF 0.000119 per share capped at 5.95
    # 1,000 SH sold at 24.27: proceeds 24,270
    # SEC: 24,270 × 20.70 / 1e6 = 0.502389 → 0.51 (cents, rounded up)
    # TAF: 1,000 × 0.000119 = 0.119 → 0.12
    assert m.sec_fee(Side.SELL, 1000, 24.27) == pytest.approx(0.502389)
    assert m.taf(Side.SELL, 1000) == pytest.approx(0.119)
    assert m.fill_fees(Side.SELL, 1000, 24.27) == pytest.approx(0.63)
    assert m.fill_fees(Side.BUY, 1000, 24.27) == 0.0  # both fees are charged on sales only


def test_taf_is_capped_per_trade_and_commission_has_a_minimum() -> None:
    m = CostModel(CostSettings(commission_per_share_usd=0.005, commission_min_usd=1.0))
    # 100,000 shares: TAF would be 11.90, the cap is 5.95
    assert m.taf(Side.SELL, 100_000) == pytest.approx(5.95)
    assert m.commission(100) == pytest.approx(1.0)  # 0.50 < the 1.00 minimum
    assert m.commission(1000) == pytest.approx(5.0)
    # a 10-share buy at 50: no regulatory fee, the commission minimum
    assert m.fill_fees(Side.BUY, 10, 50.0) == pytest.approx(1.0)


def test_borrow_is_per_symbol_actual_over_360() -> None:
    m = CostModel(CostSettings(borrow_rate=0.01, borrow_rate_by_symbol={"TZA": 0.036}))
    # 1,000 TZA short at 50 for one night at 3.6 %: 50,000 × 0.036 / 360 = 5.00
    assert m.borrow("TZA", -1000, 50.0) == pytest.approx(5.0)
    assert m.borrow("SPY", -10, 300.0, days=3) == pytest.approx(3000 * 0.01 * 3 / 360)


def test_round_trip_estimate_worked_number() -> None:
    m = CostModel(CostSettings(slippage_bp=1.0))
    # 400 SH at 25.00 with a 1-cent spread:
    # crossing 400 × 0.01 = 4.00; slippage 2 × 10,000 × 1 bp = 2.00
    # sale fees: SEC 10,000 × 20.70e-6 = 0.207 → 0.21, TAF 400 × 0.000119 = 0.0476 → 0.05
    usd = m.round_trip_usd("SH", 400, 25.0, 0.01)
    assert usd == pytest.approx(4.0 + 2.0 + 0.21 + 0.05)
    assert m.round_trip_bp("SH", 400, 25.0, 0.01) == pytest.approx(usd / 10_000 * 1e4)
    assert m.round_trip_bp("SH", 0, 25.0, 0.01) == float("inf")


@given(
    qty=st.integers(1, 1_000_000),
    price=st.floats(0.5, 2_000, allow_nan=False),
)
def test_fees_are_whole_cents_never_negative_and_grow_with_size(qty: int, price: float) -> None:
    m = CostModel()
    fee = m.fill_fees(Side.SELL, qty, price)
    assert fee >= 0 and abs(fee * 100 - round(fee * 100)) < 1e-6
    assert m.fill_fees(Side.SELL, qty * 2, price) >= fee
    assert fee >= m.sec_fee(Side.SELL, qty, price)  # rounding only ever rounds up
