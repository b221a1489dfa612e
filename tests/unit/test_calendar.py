from __future__ import annotations

from datetime import date, timedelta

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


def test_table_equals_exchange_calendars_on_every_day_it_covers() -> None:
    """The bundled table answers settled years without importing exchange_calendars: every day
    of 2000…LAST (sessions, holidays, closures, half days, and each day's prior session) must
    be what exchange_calendars says."""
    import exchange_calendars as xcals
    import pandas as pd

    from inavd import calendar_table
    from inavd.clock import dt_to_ns

    sched = xcals.get_calendar(
        "XNYS", start=calendar_table.FIRST.isoformat(), end=calendar_table.LAST.isoformat()
    ).schedule
    labels = pd.DatetimeIndex(sched.index)
    expected = {
        ts.date(): (dt_to_ns(o.to_pydatetime()), dt_to_ns(c.to_pydatetime()))
        for ts, o, c in zip(labels, sched["open"], sched["close"], strict=True)
    }
    day, previous, checked = calendar_table.FIRST, None, 0
    while day <= calendar_table.LAST:
        s = session_for(day)
        want = expected.get(day)
        assert (s is None) == (want is None), day
        if s is not None and want is not None:
            assert (s.open_ns, s.close_ns) == want, day
            assert s.early_close == (ns_to_ny(s.close_ns).hour < 16), day
            if previous is not None:
                assert previous_session_day(day) == previous, day
            previous = day
            checked += 1
        day += timedelta(days=1)
    assert checked == len(expected) > 6_500


def test_dates_outside_the_table_are_asked_of_exchange_calendars() -> None:
    from inavd import calendar_table
    from inavd.calendar import xcals_previous_session_day, xcals_session_for

    after = calendar_table.LAST + timedelta(days=1)
    for day in (after, after + timedelta(days=1), date(2026, 11, 26), date(2026, 11, 27)):
        assert session_for(day) == xcals_session_for(day)
    assert session_for(date(2026, 11, 26)) is None  # Thanksgiving
    half = session_for(date(2026, 11, 27))
    assert half is not None and half.early_close
    assert previous_session_day(after) == xcals_previous_session_day(after) == calendar_table.LAST
    first_2026 = date(2026, 1, 2)
    assert previous_session_day(first_2026) == xcals_previous_session_day(first_2026)


def test_a_replay_day_needs_neither_exchange_calendars_nor_pandas() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\nfrom datetime import date\n"
        "from inavd.calendar import previous_session_day, session_for\n"
        "session_for(date(2019, 12, 24)); previous_session_day(date(2019, 12, 26))\n"
        "print(sorted(m for m in ('pandas', 'exchange_calendars') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
