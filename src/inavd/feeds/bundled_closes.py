"""Closing prices of the bundled December 2019 data, read without pandas.

A replay of a bundled day needs only a few numbers at start: the prior session's closes (the
reference) and the day's official closes (the paper venue's closing auction). Reading them with
the csv module keeps pandas out of the default run (a quarter of a second and 100 MB); the
whole-day bar tables that build sessions (`inavd.feeds.days`) still use pandas.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

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
            for row in csv.DictReader(fh):
                out.setdefault(row["date"], {})[row["symbol"]] = float(row["close"])
    except (KeyError, ValueError, TypeError) as exc:
        raise DataError(f"{path}: cannot read daily closes: {exc}") from None
    return out


@dataclass(frozen=True, slots=True)
class BarCloses:
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
    stamps: list[int] = []
    closes: list[float] = []
    seen: set[int] = set()
    try:
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            t_col, c_col = _column(header, "Datetime", 0), header.index("Close")
            for row in reader:
                when = datetime.fromisoformat(row[t_col])
                if when.tzinfo is None:
                    raise ValueError(f"{row[t_col]!r} has no UTC offset")
                ts = dt_to_ns(when)
                if ts in seen:
                    continue
                seen.add(ts)
                stamps.append(ts)
                closes.append(float(row[c_col]))
    except (StopIteration, ValueError, IndexError) as exc:
        raise DataError(f"{path}: cannot read bars: {exc}") from None
    # the New York day of every bar in one numpy pass (a zone conversion per row cost 2 µs)
    numbers = ny_day_numbers(np.array(stamps, dtype=np.int64)).tolist()
    days = {n: date.fromordinal(n + _EPOCH) for n in set(numbers)}
    return BarCloses(tuple(days[n] for n in numbers), tuple(stamps), tuple(closes))


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
