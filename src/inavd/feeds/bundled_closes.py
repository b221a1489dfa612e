"""Closing prices of the bundled December 2019 data, read without pandas.

A replay of a bundled day needs only a few numbers at start: the prior session's closes (the
reference) and the day's official closes (the paper venue's closing auction). Reading them with
the csv module keeps pandas out of the default run (a quarter of a second and 100 MB); the
whole-day bar tables that build sessions (`inavd.feeds.days`) still use pandas.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import msgspec
import numpy as np

from inavd.clock import dt_to_ns
from inavd.errors import DataError
from inavd.feeds.quote_file import ny_day_numbers

_EPOCH = date(1970, 1, 1).toordinal()


def sample_bars_dir() -> Path:
    return Path(str(files("inavd") / "data" / "sample" / "bars"))


@lru_cache(maxsize=4)
def daily_closes(path: Path) -> dict[str, dict[str, float]]:
    """`symbol,date,close[,…]` → {ISO date: {symbol: close}}."""
    out: dict[str, dict[str, float]] = {}
    try:
        with path.open(newline="") as fh:
            reader = csv.reader(fh)  # by position: a DictReader row costs 4× more
            header = next(reader)
            s_col, d_col, c_col = (header.index(n) for n in ("symbol", "date", "close"))
            for row in reader:
                out.setdefault(row[d_col], {})[row[s_col]] = float(row[c_col])
    except (StopIteration, ValueError, IndexError) as exc:
        raise DataError(f"{path}: cannot read daily closes: {exc}") from None
    return out


class BarCloses(msgspec.Struct, frozen=True):
    """One bar file's closes in file order (a repeated timestamp keeps its first bar)."""

    day: tuple[date, ...]  # New York date of each bar
    ts_ns: tuple[int, ...]
    close: tuple[float, ...]

    def last(self, day: date, before_ns: int | None = None) -> float | None:
        """The last bar's close on `day` (before `before_ns` when given), if any."""
        for d, ts, c in zip(reversed(self.day), reversed(self.ts_ns), reversed(self.close),
                            strict=True):  # fmt: skip
            if d == day and (before_ns is None or ts < before_ns):
                return c
        return None


@lru_cache(maxsize=32)
def bar_closes(path: Path) -> BarCloses:
    """A yfinance-style bar CSV (`Datetime,Open,High,Low,Close,Volume`, times with offset)."""
    try:
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            t_col, c_col = _column(header, "Datetime", 0), header.index("Close")
            texts, closes = [], []
            for row in reader:
                texts.append(row[t_col])
                closes.append(row[c_col])
        stamps = _stamps_ns(texts)
        # a repeated timestamp keeps its first bar, in file order (a repeat is not read further)
        _, first = np.unique(stamps, return_index=True)
        keep = np.sort(first)
        close = tuple(float(closes[k]) for k in keep.tolist())
    except (StopIteration, ValueError, IndexError) as exc:
        raise DataError(f"{path}: cannot read bars: {exc}") from None
    stamps = stamps[keep]
    # the New York day of every bar in one numpy pass (a zone conversion per row cost 2 µs)
    numbers = ny_day_numbers(stamps).tolist()
    days = {n: date.fromordinal(n + _EPOCH) for n in set(numbers)}
    return BarCloses(tuple(days[n] for n in numbers), tuple(stamps.tolist()), close)


_ISO_LEN = len("2019-12-17 11:00:00-05:00")


def _stamps_ns(texts: list[str]) -> np.ndarray:
    """UTC epoch ns of ISO times with a UTC offset. Times written as the bundled bars write them
    (`YYYY-MM-DD HH:MM:SS±HH:MM`) are parsed by numpy in one pass (a `fromisoformat` per row
    cost 7 ms of every start-up); anything else row by row."""
    if texts and all(len(t) == _ISO_LEN and t[19] in "+-" and t[22] == ":" for t in texts):
        try:
            local = np.array([t[:19] for t in texts], dtype="datetime64[s]").astype(np.int64)
            offsets = {z: _offset_s(z) for z in {t[19:] for t in texts}}
        except ValueError:
            pass  # not what it looked like: the exact reading says what is wrong
        else:
            shift = np.array([offsets[t[19:]] for t in texts], dtype=np.int64)
            return (local - shift) * 1_000_000_000
    out = []
    for text in texts:
        when = datetime.fromisoformat(text)
        if when.tzinfo is None:
            raise ValueError(f"{text!r} has no UTC offset")
        out.append(dt_to_ns(when))
    return np.array(out, dtype=np.int64)


def _offset_s(zone: str) -> int:
    """`±HH:MM` → seconds east of UTC."""
    if not (zone[1:3].isdigit() and zone[4:6].isdigit() and int(zone[4:6]) < 60):
        raise ValueError(f"bad UTC offset {zone!r}")
    seconds = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
    return -seconds if zone[0] == "-" else seconds


def _column(header: list[str], name: str, default: int) -> int:
    return header.index(name) if name in header else default


def last_bar_close(path: Path, day: date) -> float | None:
    """The day's last 1-minute bar close in a bar file (a fund's closing print), if any."""
    return bar_closes(path).last(day) if path.exists() else None


def prior_bar_closes(
    prev: date, prev_close_ns: int, symbols: Iterable[str], bars_dir: Path | None = None
) -> dict[str, float]:
    """The last regular bar (before `prev_close_ns`) of session `prev` of each symbol with a
    bundled bar file that covers it."""
    base = bars_dir or sample_bars_dir()
    out: dict[str, float] = {}
    for sym in symbols:
        path = base / f"{sym}.csv"
        close = bar_closes(path).last(prev, prev_close_ns) if path.exists() else None
        if close is not None:
            out[sym] = close
    return out
