"""A user's folder of 1-minute bar CSVs as a session's bars (`inavd sample --bars DIR`).

One file per symbol, named `<SYMBOL>.csv` (or `.csv.gz`). Accepted layouts (column names are
matched case-insensitively, the time column is the first of `datetime`, `timestamp`, `ts_utc`,
`date`, `time`, else the first column):
- yfinance: `Datetime,Open,High,Low,Close,Volume[,...]` (ET with offset);
- Polygon aggregates: `timestamp,open,high,low,close,volume` (UTC with offset);
- `ts_utc,ts_nyt_epoch,open,high,low,close,volume` (ISO strings with the ET offset).
Timestamps with an offset are converted to New York time; naive timestamps are read in `tz`
(default America/New_York, said in the log). A bar is labelled by its minute's start. Bars outside
09:30–16:00 ET (extended hours, the 16:00 bar) are ignored; duplicated timestamps keep the first.
The prior close of each symbol is its last regular-session bar of the prior session, when the
file has it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import structlog

from inavd.calendar import previous_session_day, session_for
from inavd.clock import NY
from inavd.errors import DataError
from inavd.feeds.days import BENCHMARKS, MIN_COVERAGE_BENCHMARK, MIN_COVERAGE_FUND, DayBars, usable

log = structlog.get_logger(__name__)
TIME_COLUMNS = ("datetime", "timestamp", "ts_utc", "date", "time")
OHLCV = ("open", "high", "low", "close", "volume")


def read_user_bars(path: Path, tz: str = "America/New_York") -> pd.DataFrame:
    try:
        raw = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read bars: {exc}") from None
    cols = {c.lower().strip(): c for c in raw.columns}
    missing = [c for c in OHLCV if c not in cols]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing} (need time, open…volume)")
    tcol = next((cols[c] for c in TIME_COLUMNS if c in cols), raw.columns[0])
    text = raw[tcol].astype(str)
    ts = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    naive = ~text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
    if naive.any():
        log.warning("naive timestamps read in the given time zone", file=str(path), tz=tz)
        local = pd.to_datetime(text[naive], errors="coerce", format="ISO8601")
        local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        ts[naive] = local.dt.tz_convert("UTC")
    bad = ts.isna()
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2
        raise DataError(f"{path}: line {line}: unreadable time {text.iloc[line - 2]!r} in {tcol}")
    out = pd.DataFrame(
        {c.capitalize(): pd.to_numeric(raw[cols[c]], errors="coerce").to_numpy() for c in OHLCV},
        index=pd.DatetimeIndex(ts).tz_convert(NY).as_unit("ns"),
    )
    if out.isna().any().any():
        col = out.columns[out.isna().any()][0]
        line = int(out[col].isna().to_numpy().argmax()) + 2
        raise DataError(f"{path}: line {line}: column {col.lower()} is not a number")
    out = out[~out.index.duplicated(keep="first")]
    return out.sort_index()


def folder_day_bars(folder: Path, day: date, tz: str = "America/New_York") -> DayBars:
    session = session_for(day)
    if session is None:
        raise DataError(f"{day} is not an exchange session")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a directory of <SYMBOL>.csv files")
    prev = session_for(previous_session_day(day))
    assert prev is not None
    bars: dict[str, pd.DataFrame] = {}
    prior: dict[str, float] = {}
    for path in sorted([*folder.glob("*.csv"), *folder.glob("*.csv.gz")]):
        sym = path.name.split(".")[0].upper()
        df = read_user_bars(path, tz)
        ns = pd.DatetimeIndex(df.index).asi8
        today = df[(ns >= session.open_ns) & (ns < session.close_ns)]
        need = MIN_COVERAGE_BENCHMARK if sym in BENCHMARKS else MIN_COVERAGE_FUND
        if not usable(today, session, need):
            log.warning("bars do not cover the session; symbol skipped", symbol=sym, day=str(day))
            continue
        bars[sym] = today
        before = df[(ns >= prev.open_ns) & (ns < prev.close_ns)]
        if len(before):
            prior[sym] = float(before["Close"].iloc[-1])
    return DayBars(day, bars, prior, "user")
