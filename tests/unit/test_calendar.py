from __future__ import annotations

from datetime import date

from inavd.calendar import previous_session_day, session_for
from inavd.clock import ns_to_ny


def test_regular_session_and_moc_cutoff() -> None:
    s = session_for(date(2019, 12, 19))
    assert s is not None and not s.early_close
    assert ns_to_ny(s.open_ns).strftime("%H:%M") == "09:30"
    assert ns_to_ny(s.close_ns).strftime("%H:%M") == "16:00"
    assert ns_to_ny(s.moc_cutoff_ns()).strftime("%H:%M") == "15:50"


def test_early_close_and_holiday_from_the_calendar() -> None:
    eve = session_for(date(2019, 12, 24))
    assert eve is not None and eve.early_close
    assert ns_to_ny(eve.close_ns).strftime("%H:%M") == "13:00"
    assert ns_to_ny(eve.moc_cutoff_ns()).strftime("%H:%M") == "12:50"
    assert session_for(date(2019, 12, 25)) is None
    assert session_for(date(2019, 12, 21)) is None  # Saturday
    assert previous_session_day(date(2019, 12, 26)) == date(2019, 12, 24)
    assert previous_session_day(date(2019, 12, 23)) == date(2019, 12, 20)
