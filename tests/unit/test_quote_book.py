"""Quote book: bad quotes are rejected by reason and never applied; rolling spread stats."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inavd.book.quote_book import QuoteBook
from inavd.domain.quotes import QuoteBatch

SYMS = ("SPY", "SH")


def batch(rows: list[tuple[int, int, float, float]]) -> QuoteBatch:
    ts, sym, bid, ask = zip(*rows, strict=True)
    return QuoteBatch.of(
        list(ts), list(sym), list(bid), list(ask), [100] * len(rows), [200] * len(rows)
    )


def test_good_quote_sets_mid_spread_and_age() -> None:
    b = QuoteBook(SYMS)
    assert b.apply(batch([(1_000_000_000, 0, 99.99, 100.01)])) == 1
    assert b.mid[0] == pytest.approx(100.0)
    assert b.spread_bp[0] == pytest.approx(2.0)
    assert b.age_s(3_000_000_000)[0] == pytest.approx(2.0)
    assert math.isinf(b.age_s(3_000_000_000)[1])  # never quoted


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((5, 7, 1.0, 1.01), "unknown_symbol"),
        ((5, -1, 1.0, 1.01), "unknown_symbol"),
        ((5, 1, float("nan"), 1.01), "not_finite"),
        ((5, 1, 1.0, float("inf")), "not_finite"),
        ((5, 1, 0.0, 1.01), "non_positive"),
        ((5, 1, -1.0, 1.01), "non_positive"),
        ((5, 1, 1.02, 1.01), "crossed"),
    ],
)
def test_bad_quote_rejected_with_reason_and_not_applied(
    row: tuple[int, int, float, float], reason: str
) -> None:
    b = QuoteBook(SYMS)
    b.apply(batch([(1, 1, 24.0, 24.01)]))
    assert b.apply(batch([row])) == 0
    assert b.rejected_by_reason()[reason] == 1
    assert b.rejected_total == 1
    assert b.bid[1] == 24.0 and b.last_ns[1] == 1


def test_out_of_order_against_book_and_within_batch() -> None:
    b = QuoteBook(SYMS)
    b.apply(batch([(100, 0, 10.0, 10.01)]))
    # older than the book's last SPY quote → rejected
    assert b.apply(batch([(50, 0, 11.0, 11.01)])) == 0
    # within one batch: SPY at 300 then SPY at 200 (SH in between is fine)
    accepted = b.apply(batch([(300, 0, 12.0, 12.01), (250, 1, 5.0, 5.01), (200, 0, 13.0, 13.01)]))
    assert accepted == 2
    assert b.rejected_by_reason()["out_of_order"] == 2
    assert b.bid[0] == 12.0 and b.last_ns[0] == 300
    assert b.bid[1] == 5.0


def test_equal_timestamps_are_not_out_of_order() -> None:
    b = QuoteBook(SYMS)
    assert b.apply(batch([(10, 0, 1.0, 1.01), (10, 0, 1.0, 1.02)])) == 2
    assert b.ask[0] == 1.02  # the last one wins


def test_mixed_batch_keeps_good_quotes() -> None:
    b = QuoteBook(SYMS)
    rows = [
        (1, 0, 100.0, 100.02),
        (2, 1, float("nan"), 24.0),
        (3, 1, 24.0, 24.01),
        (4, 0, 101.0, 100.0),
    ]
    assert b.apply(batch(rows)) == 2
    assert b.bid[0] == 100.0 and b.bid[1] == 24.0
    assert b.rejected_by_reason() == {
        "unknown_symbol": 0,
        "not_finite": 1,
        "non_positive": 0,
        "crossed": 1,
        "out_of_order": 0,
        "outlier": 0,
    }


def test_batched_spread_ewma_matches_quote_by_quote_for_single_quotes() -> None:
    rng = np.random.default_rng(1)
    spreads = rng.integers(1, 5, 400) * 0.01
    one = QuoteBook(("X",), spread_halflife=50)
    for k, s in enumerate(spreads):
        one.apply(batch([(k + 1, 0, 100.0, 100.0 + s)]))
    d = 0.5 ** (1 / 50)
    bp = spreads / (100.0 + spreads / 2) * 1e4
    mean, ex2 = bp[0], bp[0] ** 2
    for x in bp[1:]:
        mean = d * mean + (1 - d) * x
        ex2 = d * ex2 + (1 - d) * x * x
    assert one.spread_mean_bp[0] == pytest.approx(mean, rel=1e-12)
    assert one.spread_std_bp[0] == pytest.approx(math.sqrt(ex2 - mean * mean), rel=1e-9)


def test_spread_stats_react_to_a_wide_spread() -> None:
    b = QuoteBook(("X",), spread_halflife=20)
    b.apply(batch([(k + 1, 0, 100.0, 100.01) for k in range(200)]))
    calm_mean, calm_std = b.spread_mean_bp[0], b.spread_std_bp[0]
    assert calm_std == pytest.approx(0.0, abs=1e-6)
    b.apply(batch([(1000, 0, 100.0, 100.10)]))
    assert b.spread_bp[0] > calm_mean + 3 * max(calm_std, 1e-9)
