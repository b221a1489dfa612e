"""The vectorised engine against hand-computed values on the real 2019-12-18/19 closes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inavd.book.quote_book import QuoteBook
from inavd.domain.instruments import Fund, Universe
from inavd.domain.quotes import QuoteBatch
from inavd.domain.units import NS_PER_S
from inavd.inav.engine import InavEngine, Reference

DAY_NS = 86_400 * NS_PER_S


def make(funds: tuple[Fund, ...], cash_rate: float = 0.0) -> tuple[InavEngine, QuoteBook]:
    u = Universe(("SPY", "QQQ"), funds)
    book = QuoteBook(u.symbols)
    return InavEngine(u, book, cash_rate=cash_rate), book


def quote(book: QuoteBook, sym: str, bid: float, ask: float, ts: int = 1) -> None:
    book.apply(QuoteBatch.of([ts], [book.index[sym]], [bid], [ask], [100], [100]))


def test_sh_inav_premium_and_flow_worked_example() -> None:
    sh = Fund("SH", "SPY", -1.0, 0.0089, aum_usd=1.6e9)
    eng, book = make((sh,), cash_rate=0.0155)
    eng.set_reference(Reference({"SPY": 319.59, "SH": 24.37}, {}, prior_strike_ns=0))
    quote(book, "SPY", 320.89, 320.91)  # mid 320.90, the 2019-12-19 close
    quote(book, "SH", 24.26, 24.28)  # mid 24.27
    r = eng.evaluate(now_ns=DAY_NS)  # one calendar day of accrual
    move = 320.90 / 319.59 - 1
    carry = 2 * 0.0155 - 0.0089
    inav = 24.37 * (1 - move + carry / 365)
    assert r.benchmark_move[0] == pytest.approx(move, rel=1e-12)
    assert r.inav[0] == pytest.approx(inav, rel=1e-12)
    assert round(float(r.inav[0]), 4) == 24.2716
    assert r.premium_bp[0] == pytest.approx((24.27 / inav - 1) * 1e4, rel=1e-9)
    # rally: SH must buy back short exposure at the close → flow > 0 (buy benchmark exposure)
    assert r.flow_usd[0] == pytest.approx(1.6e9 * 2 * move)
    assert r.flow_usd[0] > 0


def test_flows_summed_per_benchmark_with_inverse_sign() -> None:
    funds = (
        Fund("SH", "SPY", -1, 0.0, aum_usd=1e9),
        Fund("SPXU", "SPY", -3, 0.0, aum_usd=5e8),
        Fund("SQQQ", "QQQ", -3, 0.0, aum_usd=1e9),
    )
    eng, book = make(funds)
    eng.set_reference(
        Reference({"SPY": 100.0, "QQQ": 100.0, "SH": 10, "SPXU": 10, "SQQQ": 10}, {}, 0)
    )
    quote(book, "SPY", 94.99, 95.01)  # −5 %
    quote(book, "QQQ", 96.99, 97.01)  # −3 %
    r = eng.evaluate(0)
    spy, qqq = r.flow_by_benchmark
    assert spy == pytest.approx(1e9 * 2 * -0.05 + 5e8 * 12 * -0.05)  # −0.4 bn: sell SPY
    assert qqq == pytest.approx(1e9 * 12 * -0.03)  # −0.36 bn: sell QQQ
    assert spy < 0 and qqq < 0


def test_fund_without_reference_is_unpriced_not_guessed() -> None:
    eng, book = make((Fund("SH", "SPY", -1, 0.0), Fund("PSQ", "QQQ", -1, 0.0)))
    excluded = eng.set_reference(Reference({"SPY": 300.0, "SH": 25.0, "PSQ": 20.0}, {}, 0))
    assert excluded == ["PSQ"]  # QQQ has no prior close
    quote(book, "SPY", 300.0, 300.02)
    quote(book, "QQQ", 200.0, 200.02)
    r = eng.evaluate(0)
    assert math.isfinite(r.inav[0])
    assert math.isnan(r.inav[1]) and math.isnan(r.premium_bp[1])


def test_no_quote_gives_nan_premium() -> None:
    eng, _ = make((Fund("SH", "SPY", -1, 0.0),))
    eng.set_reference(Reference({"SPY": 300.0, "SH": 25.0}, {}, 0))
    r = eng.evaluate(0)
    assert np.isnan(r.premium_bp).all()
