"""Run a live (wall-clock) daemon in a test as if it were mid-session, whatever the real time.

`time.time_ns` is shifted for the whole process: the daemon's wall clock, the session it picks,
its market-hours watchdog and the quotes a test stamps with `time.time_ns()` all agree.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from inavd.calendar import session_for
from inavd.clock import ns_to_ny

TIMESHIFT_PATH = Path(__file__).parent / "timeshift"  # PYTHONPATH of a shifted child process


def session_shift(minutes_after_open: float = 60) -> int:
    """ns to add to the real time to be `minutes_after_open` into the next session."""
    real = time.time_ns()
    day = ns_to_ny(real).date() + timedelta(days=1)
    while session_for(day) is None:
        day += timedelta(days=1)
    session = session_for(day)
    assert session is not None
    return session.open_ns + int(minutes_after_open * 60e9) - real


def shift_into_session(monkeypatch: pytest.MonkeyPatch, minutes_after_open: float = 60) -> int:
    """Shift `time.time_ns` of this process into the next session; returns the shift."""
    real = time.time_ns
    shift = session_shift(minutes_after_open)
    monkeypatch.setattr(time, "time_ns", lambda: real() + shift)
    return shift
