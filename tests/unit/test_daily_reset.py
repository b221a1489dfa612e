"""DOMAIN.md §1 and §3 worked examples, reproduced to the printed digit."""

from __future__ import annotations

import pytest

from inavd.domain.instruments import Fund
from inavd.inav.daily_reset import carry_rate, nav_path, nav_step
from inavd.inav.rebalance import rebalance_trade


def r2(xs: list[float]) -> list[float]:
    return [round(x, 2) for x in xs]


def test_inverse_round_trip_loses_2_22_percent() -> None:
    fund = nav_path(100.0, -1.0, [100.0, 90.0, 100.0])
    assert r2(fund) == [110.00, 97.78]
    assert round((fund[-1] / 100.0 - 1) * 100, 2) == -2.22


def test_2x_round_trip_loses_1_82_percent() -> None:
    fund = nav_path(100.0, 2.0, [100.0, 110.0, 100.0])
    assert r2(fund) == [120.00, 98.18]
    assert round((fund[-1] / 100.0 - 1) * 100, 2) == -1.82


def test_2x_three_days_plus2_plus2_minus2() -> None:
    index = [100.0, 102.0, 104.04, 104.04 * 0.98]
    assert round(index[-1], 2) == 101.96
    assert r2(nav_path(100.0, 2.0, index)) == [104.00, 108.16, 103.83]


def test_2x_choppy_path_ends_at_99_05_not_99_00() -> None:
    down = 1 - 0.047619
    index = [100.0, 105.0, 105.0 * down, 105.0 * down * 1.05, 105.0 * down * 1.05 * down]
    assert round(index[-1], 2) == 100.00
    assert r2(nav_path(100.0, 2.0, index)) == [110.00, 99.52, 109.48, 99.05]


@pytest.mark.parametrize(("leverage", "expected"), [(-1.0, -0.03), (-2.0, -0.06)])
def test_inverse_funds_on_a_plus_3_percent_day(leverage: float, expected: float) -> None:
    assert nav_step(1.0, leverage, 0.03) - 1.0 == pytest.approx(expected, abs=1e-15)


def test_nav_step_with_carry() -> None:
    # −1x, r = 5 %, no dividends, ER 0.89 %: carry = 2r − ER = 9.11 % a year
    c = carry_rate(-1.0, 0.05, 0.0, 0.0089)
    assert c == pytest.approx(0.0911)
    assert nav_step(100.0, -1.0, 0.0, c, 1 / 365) == pytest.approx(100.0 * (1 + 0.0911 / 365))


def test_sh_sells_20_when_index_falls_10_percent() -> None:
    # SH, A = 100: NAV 110, the short is worth 90, target short 110 → sell 20 (DOMAIN.md §3)
    trade = rebalance_trade(aum=100.0, leverage=-1.0, index_return=-0.10)
    assert trade == pytest.approx(-20.0)
    nav_after = 100.0 * (1 + 0.10)
    short_after = 100.0 * (1 - 0.10)
    assert nav_after - short_after == pytest.approx(-trade)


@pytest.mark.parametrize(("leverage", "factor"), [(-1, 2), (-2, 6), (-3, 12), (2, 2), (3, 6)])
def test_rebalance_factor(leverage: float, factor: float) -> None:
    f = Fund("X", "SPY", leverage, 0.0)
    assert f.rebalance_factor == factor


def test_inverse_funds_trade_with_the_market() -> None:
    for lev in (-1.0, -2.0, -3.0):
        assert rebalance_trade(1e9, lev, -0.02) < 0  # falling market: sell
        assert rebalance_trade(1e9, lev, +0.02) > 0  # rising market: buy


def test_net_creations_add_leveraged_exposure() -> None:
    # $10 M of creations into a −3x fund add $30 M of short exposure at the close
    assert rebalance_trade(0.0, -3.0, 0.0, net_creations=10e6) == pytest.approx(-30e6)
