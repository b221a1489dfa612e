"""Day-trade counting: bounded by the closing orders, and none without a round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inavd.risk.venue_rules import DayTrades

orders = st.lists(st.integers(-500, 500).filter(bool), max_size=40)


def run(deltas: list[int], overnight: int = 0) -> tuple[int, int]:
    """(day trades counted, orders that shrank |position|) for one symbol."""
    dt, pos, closing = DayTrades(), float(overnight), 0
    for d in deltas:
        closing += pos != 0 and (pos > 0) != (d > 0)
        dt.record("ABC", float(d), pos)
        pos += d
    return dt.count, closing


@given(orders, st.integers(-1000, 1000))
def test_each_day_trade_is_a_closing_order(deltas: list[int], overnight: int) -> None:
    count, closing = run(deltas, overnight)
    assert 0 <= count <= closing


@given(st.lists(st.integers(1, 500), max_size=20), st.integers(-1000, 1000), st.booleans())
def test_one_direction_all_day_is_no_day_trade(size: list[int], overnight: int, buy: bool) -> None:
    # only buys (or only sells) today: nothing opened today is closed today
    assert run([s if buy else -s for s in size], overnight)[0] == 0


@given(st.integers(1, 500), st.integers(1, 20))
def test_round_trips_count_one_each(size: int, trips: int) -> None:
    assert run([size, -size] * trips)[0] == trips  # FINRA's example B, repeated
