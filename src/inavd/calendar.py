"""Exchange sessions from a maintained calendar (XNYS via exchange_calendars), never by hand.

Settled history (2000 to `calendar_table.LAST`) is answered from a table generated from
exchange_calendars and tested against it day by day, so a replay neither imports it nor pandas
(a third of a second and 150 MB at start); any other date, today's included, is asked of
exchange_calendars itself.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import msgspec

from inavd import calendar_table
from inavd.clock import NY, dt_to_ns
from inavd.domain.units import NS_PER_S

if TYPE_CHECKING:
    import exchange_calendars as xcals

OPEN = time(9, 30)
CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)


class Session(msgspec.Struct, frozen=True):
    day: date
    open_ns: int
    close_ns: int
    early_close: bool

    def contains(self, ts_ns: int) -> bool:
        return self.open_ns <= ts_ns < self.close_ns

    def moc_cutoff_ns(self, minutes_before_close: float = 10.0) -> int:
        """Last moment to submit closing-auction orders (15:50 ET on a normal day)."""
        return self.close_ns - int(minutes_before_close * 60 * NS_PER_S)


@lru_cache(maxsize=1)
def _xnys() -> xcals.ExchangeCalendar:
    import exchange_calendars as xcals

    return xcals.get_calendar("XNYS", start="2000-01-01")


@lru_cache(maxsize=1)
def _table() -> tuple[frozenset[date], frozenset[date]]:
    """(weekdays without a session, early closes) of the settled years."""

    def days(by_year: dict[int, str]) -> frozenset[date]:
        return frozenset(
            date(y, int(md[:2]), int(md[3:])) for y, text in by_year.items() for md in text.split()
        )

    return days(calendar_table.CLOSED), days(calendar_table.EARLY_CLOSE)


def _in_table(day: date) -> bool:
    return calendar_table.FIRST <= day <= calendar_table.LAST


def _session(day: date, close: time) -> Session:
    def at(t: time) -> int:
        return dt_to_ns(datetime.combine(day, t, NY))

    return Session(day=day, open_ns=at(OPEN), close_ns=at(close), early_close=close < CLOSE)


def session_for(day: date) -> Session | None:
    """The regular session on `day`, or None if the exchange is closed."""
    if _in_table(day):
        closed, early = _table()
        if day.weekday() >= 5 or day in closed:
            return None
        return _session(day, EARLY_CLOSE if day in early else CLOSE)
    return xcals_session_for(day)


def xcals_session_for(day: date) -> Session | None:
    """`session_for` asked of exchange_calendars (the table's source and its test's oracle)."""
    import pandas as pd

    cal = _xnys()
    label = pd.Timestamp(day)
    if not (cal.first_session <= label <= cal.last_session) or not cal.is_session(label):
        return None
    open_ts = cal.session_open(label).to_pydatetime()
    close_ts = cal.session_close(label).to_pydatetime()
    normal_close = datetime.combine(day, datetime.min.time(), NY) + timedelta(hours=16)
    return Session(
        day=day,
        open_ns=dt_to_ns(open_ts),
        close_ns=dt_to_ns(close_ts),
        early_close=close_ts < normal_close,
    )


def previous_session_day(day: date) -> date:
    """The last session strictly before `day`."""
    prev = day - timedelta(days=1)
    while _in_table(prev):
        if session_for(prev) is not None:
            return prev
        prev -= timedelta(days=1)
    return xcals_previous_session_day(day)


def xcals_previous_session_day(day: date) -> date:
    import pandas as pd

    cal = _xnys()
    prev = cal.date_to_session(pd.Timestamp(day), direction="previous")
    if prev.date() == day:
        prev = cal.previous_session(prev)
    return prev.date()  # type: ignore[no-any-return]


def session_at(ts_ns: int) -> Session | None:
    from inavd.clock import ns_to_ny

    return session_for(ns_to_ny(ts_ns).date())
