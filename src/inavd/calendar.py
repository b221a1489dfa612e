"""Exchange sessions from a maintained calendar (XNYS via exchange_calendars), never by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from inavd.clock import NY, dt_to_ns
from inavd.domain.units import NS_PER_S


@dataclass(frozen=True, slots=True)
class Session:
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
    return xcals.get_calendar("XNYS", start="2000-01-01")


def session_for(day: date) -> Session | None:
    """The regular session on `day`, or None if the exchange is closed."""
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
    cal = _xnys()
    prev = cal.date_to_session(pd.Timestamp(day), direction="previous")
    if prev.date() == day:
        prev = cal.previous_session(prev)
    return prev.date()  # type: ignore[no-any-return]


def session_at(ts_ns: int) -> Session | None:
    from inavd.clock import ns_to_ny

    return session_for(ns_to_ny(ts_ns).date())
