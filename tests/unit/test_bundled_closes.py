"""The bundled December 2019 closes read without pandas equal what pandas reads: prior closes
(the reference), the day's last bars (the closing auction) and the daily closes file."""

from __future__ import annotations

from datetime import date

import pandas as pd

from inavd.calendar import previous_session_day, session_for
from inavd.feeds.bundled_closes import (
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
