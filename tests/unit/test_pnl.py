"""P&L after costs: account and per strategy, marked at the close, borrow over the close."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inavd.costs import CostModel, CostSettings
from inavd.domain.orders import Fill, Side
from inavd.pnl import pnl_summary

_n = iter(range(1_000_000))


def fill(sym: str, side: Side, qty: float, px: float, fee: float = 0.0) -> Fill:
    k = next(_n)
    return Fill(k, f"c{k}", f"b{k}", sym, side, qty, px, f"e{k}", fee)


def test_worked_day_by_strategy_marked_at_the_close() -> None:
    fills = [
        (fill("SH", Side.BUY, 100, 24.00), "premrev"),
        (fill("TZA", Side.BUY, 200, 50.00), "volhedge"),
        (fill("SH", Side.SELL, 100, 24.10, fee=0.07), "premrev"),
        (fill("SPY", Side.SELL, 10, 320.00, fee=0.10), "meanrev"),
    ]
    marks = {"SH": 24.2, "TZA": 49.50, "SPY": 321.00}
    costs = CostModel(CostSettings(borrow_rate=0.036))
    out = pnl_summary(fills, marks, costs, overnight=True)
    pnl = out["pnl"]
    # realised: SH 100 × (24.10 − 24.00) = 10.00
    # unrealised: TZA 200 × (49.50 − 50.00) = −100; SPY −10 × (321 − 320) = −10
    # fees: 0.07 + 0.10 + SPY borrow 10 × 321 × 3.6 % / 360 = 0.321
    assert pnl["realized"] == pytest.approx(10.00)
    assert pnl["unrealized"] == pytest.approx(-110.00)
    assert pnl["fees"] == pytest.approx(0.49)
    assert pnl["total"] == pytest.approx(-100.49)
    by = pnl["by_strategy"]
    assert by["premrev"] == {
        "realized": 10.0, "unrealized": 0.0, "fees": 0.07, "total": 9.93,
        "turnover": 4810.0, "round_trips": 1,
    }  # fmt: skip
    assert by["volhedge"]["total"] == pytest.approx(-100.0)
    assert by["meanrev"]["fees"] == pytest.approx(0.42)
    assert out["turnover"] == pytest.approx(2400 + 10_000 + 2410 + 3200)
    assert out["round_trips"] == 1
    assert out["realized_by_symbol"] == {"SH": 10.0}


def test_no_borrow_when_marked_before_the_close() -> None:
    fills = [(fill("SPY", Side.SELL, 10, 320.0), "meanrev")]
    costs = CostModel(CostSettings(borrow_rate=0.036))
    assert pnl_summary(fills, {"SPY": 320.0}, costs, overnight=False)["pnl"]["fees"] == 0.0


def test_two_strategies_trading_one_symbol_against_each_other() -> None:
    fills = [
        (fill("SH", Side.BUY, 100, 24.00), "a"),
        (fill("SH", Side.SELL, 100, 24.10), "b"),
    ]
    out = pnl_summary(fills, {"SH": 24.05})
    # the account is flat with 10.00 realised; each strategy holds its own leg, marked at 24.05
    assert out["pnl"]["realized"] == pytest.approx(10.0) and out["pnl"]["unrealized"] == 0.0
    assert out["pnl"]["by_strategy"]["a"]["unrealized"] == pytest.approx(5.0)
    assert out["pnl"]["by_strategy"]["b"]["unrealized"] == pytest.approx(5.0)
    assert out["round_trips"] == 1


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["SH", "TZA"]),
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(1, 500),
            st.floats(20, 30),
            st.sampled_from(["a", "b", "c"]),
        ),
        max_size=30,
    ),
    st.floats(20, 30),
)
def test_strategy_totals_add_up_to_the_account_total(rows: list, mark: float) -> None:  # type: ignore[type-arg]
    fills = [(fill(s, side, q, round(px, 2), fee=0.01), strat) for s, side, q, px, strat in rows]
    out = pnl_summary(fills, {"SH": mark, "TZA": mark})
    parts = sum(p["total"] for p in out["pnl"]["by_strategy"].values())
    assert parts == pytest.approx(out["pnl"]["total"], abs=0.01 * (1 + len(fills)))
    # total = cash + market value of what is held (nothing is lost between the two views)
    cash = sum(-f.signed_qty * f.price - f.fee_usd for f, _ in fills)
    held: dict[str, float] = {}
    for f, _ in fills:
        held[f.symbol] = held.get(f.symbol, 0.0) + f.signed_qty
    assert out["pnl"]["total"] == pytest.approx(
        cash + sum(q * mark for q in held.values()), abs=0.01
    )
