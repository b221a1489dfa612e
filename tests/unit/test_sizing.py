"""Sizing: fractional Kelly with cap/floor, volatility target, whole shares, minimum notional."""

from __future__ import annotations

import math

import pytest

from inavd.sizing import Sizer, SizingSettings, kelly_fraction, to_shares, vol_multiplier


def test_kelly_fraction_worked_examples() -> None:
    # f* = μ/σ² = 1e-4 / 4e-4 = 0.25; a quarter Kelly bets 0.0625 of capital
    assert kelly_fraction(1e-4, 4e-4, 0.25, 0.10, 0.01) == pytest.approx(0.0625)
    # 5 bp edge, 50 bp stdev: f* = 20 → capped at 10 %
    assert kelly_fraction(5e-4, 2.5e-5, 0.25, 0.10, 0.01) == 0.10
    # a tiny positive edge still sizes the floor
    assert kelly_fraction(1e-5, 4e-4, 0.25, 0.10, 0.01) == 0.01


@pytest.mark.parametrize("edge,var", [(0.0, 1e-4), (-1e-4, 1e-4), (1e-4, 0.0), (math.nan, 1e-4)])
def test_no_edge_no_bet(edge: float, var: float) -> None:
    assert kelly_fraction(edge, var, 0.25, 0.10, 0.01) == 0.0


def test_vol_multiplier() -> None:
    assert vol_multiplier(0.32, 0.16, 2.0) == pytest.approx(0.5)
    assert vol_multiplier(0.04, 0.16, 2.0) == 2.0  # capped
    assert vol_multiplier(None, 0.16, 2.0) == 1.0
    assert vol_multiplier(math.nan, 0.16, 2.0) == 1.0
    assert vol_multiplier(0.32, 0.0, 2.0) == 1.0  # no target configured


def test_whole_shares_fractional_and_minimum_notional() -> None:
    assert to_shares(10_000, 24.37, False, 1_000) == 410.0
    assert to_shares(10_000, 24.37, True, 1_000) == pytest.approx(410.340582, abs=1e-6)
    # 1,000 USD buys 41 whole shares = 999.17 USD: below the minimum, so nothing
    assert to_shares(1_000, 24.37, False, 1_000) == 0.0
    assert to_shares(1_500, 24.37, True, 1_000) == pytest.approx(61.551087, abs=1e-6)
    assert to_shares(10_000, 0.0, False, 0) == 0.0
    assert to_shares(-5_000, 10.0, False, 0) == 0.0


def test_sizer_combines_kelly_and_vol_target() -> None:
    s = Sizer(SizingSettings(capital_usd=100_000, vol_target=0.16, fractional_symbols=["SPY"]))
    # 0.0625 × 100,000 = 6,250 USD → 250 shares at 25; realised vol 2× target halves it
    assert s.shares("SH", 25.0, edge_bp=1.0, stdev_bp=200.0) == 250.0
    assert s.shares("SH", 25.0, edge_bp=1.0, stdev_bp=200.0, realised_vol=0.32) == 125.0
    assert s.shares("SPY", 300.0, edge_bp=1.0, stdev_bp=200.0) == pytest.approx(20.833333)
    assert s.shares("SH", 25.0, edge_bp=0.0, stdev_bp=200.0) == 0.0


def test_floor_above_cap_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="floor_fraction"):
        SizingSettings(floor_fraction=0.2, cap_fraction=0.1)
