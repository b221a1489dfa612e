"""The bundled December 2019 closes read without pandas equal what pandas reads: prior closes
(the reference), the day's last bars (the closing auction) and the daily closes file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inavd.calendar import previous_session_day, session_for
from inavd.clock import dt_to_ns
from inavd.errors import DataError
from inavd.feeds.bundled_closes import (
    _stamps_ns,
    bar_closes,
    daily_closes,
    last_bar_close,
    prior_bar_closes,
    sample_bars_dir,
)
from inavd.feeds.days import bars_prior_closes
from inavd.feeds.sample import sample_dir
from inavd.feeds.synthetic import read_bar_file


def _bar_days() -> list[date]:
    days = set()
    for path in sample_bars_dir().glob("*.csv"):
        days |= set(read_bar_file(path).index.date)
    return sorted(d for d in days if session_for(d) is not None)


def _symbols() -> list[str]:
    return sorted(p.stem for p in sample_bars_dir().glob("*.csv"))


def test_prior_bar_closes_equal_the_pandas_bar_tables() -> None:
    days = _bar_days()
    assert len(days) >= 5
    for day in days:
        prev = previous_session_day(day)
        s = session_for(prev)
        assert s is not None
        assert prior_bar_closes(prev, s.close_ns, _symbols()) == bars_prior_closes(day, _symbols())
    wed = session_for(date(2019, 12, 18))
    assert wed is not None and set(prior_bar_closes(wed.day, wed.close_ns, ["SQQQ"])) == {"SQQQ"}


def test_last_bar_close_equals_the_pandas_reading() -> None:
    """Each day's last bar: the official close of a fund without a daily row."""
    checked = 0
    for sym in _symbols():
        path = sample_bars_dir() / f"{sym}.csv"
        bars = pd.read_csv(path)
        ts = pd.to_datetime(bars.iloc[:, 0], utc=True).dt.tz_convert("America/New_York")
        for day in [*_bar_days(), date(2019, 12, 25)]:
            on_day = bars[ts.dt.date == day]
            want = float(on_day["Close"].iloc[-1]) if len(on_day) else None
            assert last_bar_close(path, day) == want, (sym, day)
            checked += want is not None
    assert checked > 20
    assert last_bar_close(sample_bars_dir() / "NOPE.csv", date(2019, 12, 19)) is None


def test_daily_closes_equal_the_pandas_reading() -> None:
    path = sample_dir() / "daily_closes.csv"
    df = pd.read_csv(path, dtype={"symbol": str, "date": str})
    got = daily_closes(path)
    assert sum(len(v) for v in got.values()) == len(df)
    for sym, d, c in zip(df["symbol"], df["date"], df["close"], strict=True):
        assert got[d][sym] == float(c)


# ------------------------------------------------------------------ bar times
_ZONES = st.sampled_from(["-05:00", "-04:00", "+00:00", "+05:30", "-09:30", "+14:00"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.datetimes(datetime(1990, 1, 1), datetime(2060, 1, 1)), _ZONES),
        min_size=1,
        max_size=30,
    )
)
def test_bar_times_read_in_one_pass_equal_fromisoformat(rows: list[tuple[datetime, str]]) -> None:
    texts = [f"{d.replace(microsecond=0):%Y-%m-%d %H:%M:%S}{z}" for d, z in rows]
    want = [dt_to_ns(datetime.fromisoformat(t)) for t in texts]
    assert _stamps_ns(texts).tolist() == want


def test_bar_times_in_other_iso_forms_are_read_row_by_row() -> None:
    texts = ["2019-12-17T11:00:00.500000-05:00", "2019-12-17 11:01:00+00:00"]
    assert _stamps_ns(texts).tolist() == [
        dt_to_ns(datetime.fromisoformat(t)) for t in texts
    ]
    with pytest.raises(ValueError, match="no UTC offset"):
        _stamps_ns(["2019-12-17 11:00:00-05:00", "2019-12-17 11:01:00"])
    with pytest.raises(ValueError):  # looks like the bundled form, is not a time
        _stamps_ns(["2019-12-17 25:00:00-05:00"])


def test_a_repeated_bar_time_keeps_its_first_bar_and_a_bad_file_names_itself(
    tmp_path: Path,
) -> None:
    path = tmp_path / "X.csv"
    path.write_text(
        "Datetime,Open,High,Low,Close,Volume\n"
        "2019-12-17 11:00:00-05:00,1,1,1,10.5,0\n"
        "2019-12-17 11:01:00-05:00,1,1,1,11.0,0\n"
        "2019-12-17 16:00:00+00:00,,,,,\n"  # 11:00 New York again, with no prices
        "2019-12-17 11:02:00-05:00,1,1,1,11.5,0\n"
    )
    bars = bar_closes(path)
    assert bars.close == (10.5, 11.0, 11.5)
    assert bars.last(date(2019, 12, 17)) == 11.5
    bad = tmp_path / "Y.csv"
    bad.write_text("Datetime,Close\n2019-12-17 11:00:00-05:00,abc\n")
    with pytest.raises(DataError, match=r"Y\.csv: cannot read bars"):
        bar_closes(bad)
