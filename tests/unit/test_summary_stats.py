"""The summary's per-fund premium statistics, updated as arrays, equal a plain loop's."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from inavd.domain.events import InavEvaluated
from inavd.summary import SummaryCollector

SYMS = ("SH", "SDS", "SPXU", "PSQ")


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.lists(
            st.one_of(st.floats(-500, 500), st.just(math.nan)), min_size=4, max_size=4
        ),
        min_size=1,
        max_size=30,
    )
)
def test_premium_table_equals_a_scalar_loop(values: list[list[float]]) -> None:
    c = SummaryCollector()
    for k, row in enumerate(values):
        p = np.array(row)
        c._on_inav(InavEvaluated(k, SYMS, p, p, p, p, p, seq=k))
    expected = {}
    for j, sym in enumerate(SYMS):
        xs = [row[j] for row in values if math.isfinite(row[j])]
        if xs:
            total = 0.0
            for x in xs:
                total += x
            expected[sym] = {
                "min": round(min(xs), 3), "max": round(max(xs), 3),
                "mean": round(total / len(xs), 3),
            }  # fmt: skip
    assert c.premium_table() == dict(sorted(expected.items()))
    assert c.inav_evaluations == len(values)


def test_events_with_another_fund_order_land_on_the_right_funds() -> None:
    c = SummaryCollector()
    c._on_inav(InavEvaluated(1, SYMS, *(np.array([1.0, 2.0, 3.0, 4.0]),) * 5, seq=1))
    other = ("PSQ", "SH", "QID")  # reordered, one fund new
    c._on_inav(InavEvaluated(2, other, *(np.array([-4.0, 5.0, 7.0]),) * 5, seq=2))
    t = c.premium_table()
    assert t["SH"] == {"min": 1.0, "max": 5.0, "mean": 3.0}
    assert t["PSQ"] == {"min": -4.0, "max": 4.0, "mean": 0.0}
    assert t["QID"] == {"min": 7.0, "max": 7.0, "mean": 7.0}
    assert t["SDS"] == {"min": 2.0, "max": 2.0, "mean": 2.0}
