"""Short real-data sessions for the research tests: the last minutes of real days, so a task
replays in a second or two while the closing strategies still trade."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pandas as pd

from inavd.clock import NY
from inavd.feeds.columns import read_quote_table, write_quote_table
from inavd.feeds.sample import SAMPLE_DAY, build_sample_session, sample_session_path
from inavd.settings import load_config
from inavd.universe import build_universe
from tests.kit.paths import DEFAULT_CONFIG

DAY_BEFORE = date(2019, 12, 18)  # built from the bundled real 1-minute bars, like the sample
WINDOW = (time(15, 25), time(16, 0))  # ET: premium_arb's window and the close are inside


def day_quotes(day: date) -> pd.DataFrame:
    if day == SAMPLE_DAY:
        return read_quote_table(sample_session_path())
    universe = build_universe(load_config(DEFAULT_CONFIG).universe)
    return build_sample_session(universe, day, seed=int(day.strftime("%Y%m%d")))


def cut(df: pd.DataFrame, start: time, end: time) -> pd.DataFrame:
    local = pd.to_datetime(df["ts"], unit="ns", utc=True).dt.tz_convert(NY).dt.time
    return df[(local >= start) & (local < end)].reset_index(drop=True)


def write_short_days(path: Path, days: tuple[date, ...] = (DAY_BEFORE, SAMPLE_DAY)) -> Path:
    """One quote file holding the closing window of each day."""
    parts = [cut(day_quotes(d), *WINDOW) for d in days]
    write_quote_table(path, pd.concat(parts, ignore_index=True))
    return path


def shifted(df: pd.DataFrame, days: int) -> pd.DataFrame:
    """The same quotes `days` calendar days later (to make a session on a non-trading day)."""
    out = df.copy()
    out["ts"] = out["ts"] + days * 86_400 * 10**9
    return out
