"""Property tests of the iNAV engine and the rebalance algebra."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from inavd.book.quote_book import QuoteBook
from inavd.domain.instruments import Fund, FuturesLeg, Holdings, SwapLeg, Universe
from inavd.domain.quotes import QuoteBatch
from inavd.inav.daily_reset import inav_daily_reset
from inavd.inav.engine import InavEngine, Reference

moves = st.floats(-0.3, 0.3, allow_nan=False)
leverages = st.sampled_from([-3.0, -2.0, -1.0, 2.0, 3.0])


@given(leverages, moves, moves, st.floats(1.0, 500.0))
def test_inav_is_linear_in_the_benchmark_move(lev: float, m1: float, m2: float, nav: float) -> None:
    def f(m: float) -> float:
        a = np.array([m])
        return float(
            inav_daily_reset(np.array([nav]), np.array([lev]), a, np.array([0.01]), 0.002)[0]
        )

    # affine in m: f(m1 + m2) − f(m1) − f(m2) + f(0) = 0
    assert abs(f(m1 + m2) - f(m1) - f(m2) + f(0.0)) < 1e-9 * nav


@given(st.floats(-5.0, -1e-6, allow_nan=False))
def test_rebalance_factor_positive_for_every_inverse_leverage(lev: float) -> None:
    assert lev * lev - lev > 0


def _engine(fund: Fund, prior_nav: float, spy_prior: float) -> tuple[InavEngine, QuoteBook]:
    u = Universe(("SPY",), (fund,))
    book = QuoteBook(u.symbols)
    eng = InavEngine(u, book, cash_rate=0.0)
    eng.set_reference(Reference({"SPY": spy_prior, fund.symbol: prior_nav}, {}, 0))
    return eng, book


@settings(max_examples=60)
@given(moves, st.floats(0.2, 0.95), st.floats(10.0, 100.0), leverages)
def test_holdings_model_equals_daily_reset_at_the_reset(
    move: float, swap_share: float, nav: float, lev: float
) -> None:
    # a basket struck at the prior close: cash = net assets, swaps + futures = L × net assets
    shares = 1e6
    assets = nav * shares
    settle = 3200.0
    contracts = lev * assets * (1 - swap_share) / (50 * settle)
    h = Holdings(
        shares,
        assets,
        0.0,
        (SwapLeg("SPY", lev * assets * swap_share),),
        (FuturesLeg("SPY", contracts, 50.0, settle),),
    )
    with_h = Fund("F", "SPY", lev, 0.0, holdings=h)
    plain = Fund("F", "SPY", lev, 0.0)
    spy0 = 320.0
    px = spy0 * (1 + move)
    out = []
    for fund in (with_h, plain):
        eng, book = _engine(fund, nav, spy0)
        book.apply(QuoteBatch.of([1, 1], [0, 1], [px, nav], [px, nav], [100, 100], [100, 100]))
        out.append(float(eng.evaluate(0).inav[0]))
    assert abs(out[0] - out[1]) <= 1e-9 * nav
