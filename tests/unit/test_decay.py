"""Volatility decay: closed form (DOMAIN.md §4), daily-reset compounding (§1 seed examples),
the prospectus table and the Monte Carlo simulation with its documented tolerance
(docs/analysis.md).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inavd.analysis.decay import (
    DEFAULT_INDEX_RETURNS,
    DEFAULT_VOLATILITIES,
    closed_form_return,
    decay_table,
    fund_growth,
    round_percent,
    simulate_returns,
)
from inavd.cli import main
from inavd.errors import ConfigError

# Documented agreement of the simulated median with the closed form, in return points
# (docs/analysis.md, "Simulation vs closed form"): core region |R| ≤ 30 %, σ ≤ 50 %.
CORE_TOLERANCE = {-1.0: 0.005, 2.0: 0.01, -2.0: 0.01, -3.0: 0.01, 3.0: 0.01}
MINUS_ONE_GRID_TOLERANCE = 0.01  # −1x over the whole default prospectus grid


def _fund_values(index_levels: list[float], leverage: float, start: float = 100.0) -> list[float]:
    levels = np.asarray(index_levels, dtype=np.float64)
    growth = fund_growth(levels[1:] / levels[:-1] - 1.0, leverage)
    return [float(v) for v in start * growth]


# ------------------------------------------------------------------- DOMAIN.md §1 seed examples
def test_seed_minus_one_down_up() -> None:
    values = _fund_values([100.0, 90.0, 100.0], -1.0)
    assert [round(v, 2) for v in values] == [110.0, 97.78]
    assert round(values[-1] / 100.0 - 1.0, 4) == -0.0222  # index flat, fund −2.22 %


def test_seed_plus_two_up_down() -> None:
    assert [round(v, 2) for v in _fund_values([100.0, 110.0, 100.0], 2.0)] == [120.0, 98.18]


def test_seed_plus_two_three_days() -> None:
    index = [100.0, 102.0, 104.04, 101.9592]  # +2 %, +2 %, −2 %
    assert round(index[-1], 2) == 101.96
    assert [round(v, 2) for v in _fund_values(index, 2.0)] == [104.0, 108.16, 103.83]


def test_seed_plus_two_round_trip_twice() -> None:
    index = [100.0, 105.0, 100.0, 105.0, 100.0]  # +5 %, −4.7619 %, +5 %, −4.7619 %
    assert [round(v, 2) for v in _fund_values(index, 2.0)] == [110.0, 99.52, 109.48, 99.05]


@pytest.mark.parametrize(("leverage", "expected"), [(-1.0, -0.03), (-2.0, -0.06)])
def test_seed_inverse_on_a_plus_three_percent_day(leverage: float, expected: float) -> None:
    assert _fund_values([100.0, 103.0], leverage, start=1.0)[0] - 1.0 == pytest.approx(expected)


def test_wipe_out_stays_at_zero() -> None:
    growth = fund_growth(np.array([0.40, 0.10, -0.50]), -3.0)  # −120 % on day one
    assert growth.tolist() == [0.0, 0.0, 0.0]


# ----------------------------------------------------------------------- DOMAIN.md §4 closed form
@pytest.mark.parametrize(
    ("volatility", "printed"),
    [(0.10, "-1.0"), (0.25, "-6.1"), (0.50, "-22.1"), (0.75, "-43.0"), (1.00, "-63.2")],
)
def test_minus_one_flat_index(volatility: float, printed: str) -> None:
    assert str(round_percent(closed_form_return(-1.0, 0.0, volatility))) == printed


def test_table_default_grid_and_flat_row() -> None:
    table = decay_table(-1.0)
    assert len(table.index_returns) == 13
    assert table.index_returns[0] == pytest.approx(-0.6)
    assert table.index_returns[-1] == pytest.approx(0.6)
    assert table.volatilities == (0.10, 0.25, 0.50, 0.75, 1.00)
    flat = table.fund_returns[table.index_returns.index(0.0)]
    assert [str(round_percent(x)) for x in flat] == ["-1.0", "-6.1", "-22.1", "-43.0", "-63.2"]


def test_round_percent_is_half_away_from_zero() -> None:
    assert str(round_percent(0.0005)) == "0.1"
    assert str(round_percent(-0.0005)) == "-0.1"
    assert str(round_percent(0.00049)) == "0.0"


reasonable_r = st.floats(min_value=-0.9, max_value=3.0)
reasonable_s = st.floats(min_value=0.0, max_value=1.5)
leverages = st.sampled_from([-3.0, -2.0, -1.0, 2.0, 3.0])


@given(leverages, reasonable_r)
def test_no_volatility_no_drag(leverage: float, r: float) -> None:
    assert closed_form_return(leverage, r, 0.0) == pytest.approx((1.0 + r) ** leverage - 1.0)


@given(reasonable_r, reasonable_s)
def test_unlevered_fund_has_no_drag(r: float, s: float) -> None:
    assert closed_form_return(1.0, r, s) == pytest.approx(r)


@given(leverages, reasonable_r, reasonable_s, st.floats(min_value=0.01, max_value=1.0))
def test_drag_grows_with_volatility(leverage: float, r: float, s: float, ds: float) -> None:
    assert closed_form_return(leverage, r, s + ds) < closed_form_return(leverage, r, s)


@given(reasonable_r, reasonable_s)
def test_minus_one_decays_like_plus_two(r: float, s: float) -> None:
    """L − L² is −2 for both −1x and +2x: the same drag factor (DOMAIN.md §4)."""

    def drag(leverage: float) -> float:
        return (1 + closed_form_return(leverage, r, s)) / (1 + closed_form_return(leverage, r, 0))

    assert drag(-1.0) == pytest.approx(drag(2.0))


def test_horizon_scales_the_drag() -> None:
    one = math.log1p(closed_form_return(-2.0, 0.0, 0.3, years=1.0))
    assert math.log1p(closed_form_return(-2.0, 0.0, 0.3, years=0.5)) == pytest.approx(one / 2)


@pytest.mark.parametrize(
    ("r", "s", "t"), [(-1.0, 0.2, 1.0), (-1.5, 0.2, 1.0), (0.0, -0.1, 1.0), (0.0, 0.2, 0.0),
                      (math.nan, 0.2, 1.0)],
)
def test_invalid_inputs(r: float, s: float, t: float) -> None:
    with pytest.raises(ConfigError):
        closed_form_return(-1.0, r, s, t)


# ------------------------------------------------------------------------------------ simulation
def test_simulation_is_fast() -> None:
    simulate_returns(-1.0, 0.0, 0.25, paths=1000, seed=0)  # warm up numpy
    best = math.inf
    for seed in range(3):
        started = time.perf_counter()
        result = simulate_returns(-1.0, 0.0, 0.25, paths=10_000, seed=seed)
        best = min(best, time.perf_counter() - started)
    assert (result.paths, result.days) == (10_000, 252)
    assert best < 1.0


def test_simulation_is_reproducible() -> None:
    a = simulate_returns(-2.0, 0.1, 0.4, paths=2000, seed=42)
    b = simulate_returns(-2.0, 0.1, 0.4, paths=2000, seed=42)
    assert a == b
    assert a.p5 < a.p50 < a.p95


@pytest.mark.parametrize("leverage", [-3.0, -1.0, 2.0])
@pytest.mark.parametrize("r", [-0.3, 0.0, 0.3])
def test_simulation_converges_to_closed_form_as_volatility_vanishes(
    leverage: float, r: float
) -> None:
    """With σ → 0 every path is the deterministic daily path; what remains is the daily-step
    discretisation of the drift, (L − L²)·ln(1 + R)²/(2D) in log terms."""
    result = simulate_returns(leverage, r, 1e-6, paths=200, seed=1)
    days = result.days
    deterministic = (1.0 + leverage * ((1.0 + r) ** (1.0 / days) - 1.0)) ** days - 1.0
    for value in (result.p5, result.p50, result.p95):
        assert value == pytest.approx(deterministic, rel=1e-4, abs=5e-5)
    closed = closed_form_return(leverage, r, 1e-6)
    bound = abs(leverage - leverage**2) * math.log1p(r) ** 2 / (2 * days)
    assert abs(math.log1p(result.p50) - math.log1p(closed)) <= bound * 1.05 + 1e-6


def test_simulation_spread_shrinks_with_volatility() -> None:
    spreads = [simulate_returns(-1.0, 0.0, s, paths=2000, seed=3) for s in (0.4, 0.1, 0.01)]
    widths = [x.p95 - x.p5 for x in spreads]
    assert widths[0] > widths[1] > widths[2]
    assert abs(spreads[-1].p50 - closed_form_return(-1.0, 0.0, 0.01)) < 1e-4


@pytest.mark.parametrize("leverage", sorted(CORE_TOLERANCE))
def test_simulation_median_agrees_with_closed_form(leverage: float) -> None:
    for r in (-0.3, 0.0, 0.3):
        for s in (0.10, 0.25, 0.50):
            sim = simulate_returns(leverage, r, s, paths=10_000, seed=11)
            closed = closed_form_return(leverage, r, s)
            assert abs(sim.p50 - closed) <= CORE_TOLERANCE[leverage], (r, s, sim.p50, closed)


def test_minus_one_simulation_over_the_prospectus_grid() -> None:
    worst = max(
        abs(simulate_returns(-1.0, r, s, paths=4000, seed=5).p50 - closed_form_return(-1.0, r, s))
        for r in DEFAULT_INDEX_RETURNS
        for s in DEFAULT_VOLATILITIES
    )
    assert worst <= MINUS_ONE_GRID_TOLERANCE


def test_median_index_return_is_r() -> None:
    """The documented drift choice: an unlevered 'fund' is the index, its median return is R."""
    sim = simulate_returns(1.0, 0.2, 0.3, paths=10_000, seed=2)
    assert sim.p50 == pytest.approx(0.2, abs=0.005)


def test_simulated_mean_matches_lognormal_mean() -> None:
    """Mean fund return ≈ (1 + R)^L·exp(L·σ²·T/2) − 1 under the median-R drift."""
    sim = simulate_returns(-1.0, 0.1, 0.3, paths=10_000, seed=4)
    assert sim.mean == pytest.approx(1.1**-1 * math.exp(-0.3**2 / 2) - 1.0, abs=0.01)


def test_simulation_wipe_out_floor() -> None:
    sim = simulate_returns(-3.0, 0.0, 3.0, paths=2000, seed=9)
    assert sim.p5 == -1.0  # a −3x fund on a 300 %-vol index is wiped out on most paths
    assert sim.mean >= -1.0


# ------------------------------------------------------------------------------------------- CLI
def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_decay_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "decay", "--leverage", "-1", "--index-return", "0",
                        "--volatility", "25%", "--json")
    assert code == 0
    payload = json.loads(out)
    assert list(payload) == ["fund_return"]
    assert payload["fund_return"] == pytest.approx(closed_form_return(-1.0, 0.0, 0.25))


def test_cli_decay_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "decay", "-L", "2", "--index-return=-10%", "--volatility", "0.3",
                        "--years", "2")
    assert code == 0
    assert f"{closed_form_return(2.0, -0.1, 0.3, 2.0) * 100:+.2f} %" in out


def test_cli_simulate_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "decay", "-L", "-2", "--index-return", "0.1", "--volatility",
                        "0.4", "--method", "simulate", "--paths", "3000", "--seed", "8", "--json")
    assert code == 0
    payload = json.loads(out)
    assert list(payload) == ["method", "mean", "p5", "p50", "p95", "paths", "days"]
    expected = simulate_returns(-2.0, 0.1, 0.4, paths=3000, seed=8)
    assert payload["method"] == "simulate"
    assert payload["p50"] == expected.p50
    assert (payload["paths"], payload["days"]) == (3000, 252)


def test_cli_decay_table_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "decay-table", "--leverage", "-3", "--json",
                        "--index-returns=-0.2,0,20%", "--volatilities", "0.1", "0.5")
    assert code == 0
    payload = json.loads(out)
    assert list(payload) == ["leverage", "index_returns", "volatilities", "fund_returns"]
    assert payload["index_returns"] == [-0.2, 0.0, 0.2]
    assert payload["volatilities"] == [0.1, 0.5]
    for r, row in zip(payload["index_returns"], payload["fund_returns"], strict=True):
        assert row == [closed_form_return(-3.0, r, s) for s in payload["volatilities"]]


def test_cli_decay_table_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "decay-table", "--leverage", "-1")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 + 13  # title, header, 13 index-return rows
    assert lines[1].split()[-5:] == ["10%", "25%", "50%", "75%", "100%"]
    assert lines[2].split()[0] == "-60%" and lines[-1].split()[0] == "+60%"
    assert lines[8].split() == ["0%", "-1.0%", "-6.1%", "-22.1%", "-43.0%", "-63.2%"]


@pytest.mark.parametrize(
    "argv",
    [
        ["decay", "-L", "-1", "--index-return", "-1", "--volatility", "0.2"],
        ["decay", "-L", "-1", "--index-return", "0", "--volatility", "0.2", "--paths", "10"],
        ["decay-table", "-L", "-1", "--index-returns=-1.5"],
    ],
)
def test_cli_user_mistakes_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("inavd: error: ") and err.count("\n") == 1
