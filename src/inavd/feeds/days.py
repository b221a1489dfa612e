"""Every bundled real day: 1-minute bars kept compact in the package, quotes built on demand.

Two bundles (provenance in `inavd/data/sample/PROVENANCE.md` and `inavd/data/days/PROVENANCE.md`):
- Dec 2019: `data/sample/bars/*.csv` (SPY, QQQ, IWM and ten funds), prior closes from
  `data/sample/daily_closes.csv`;
- 2025: `data/days/bars-2025.parquet` (QQQ, TQQQ, SQQQ Apr–Jun; SPY, QQQ, IWM, DIA, SSO, SDS,
  TNA, TZA 2025-08-18 … 09-19), prior closes = the prior session's last regular-session bar.

A symbol is used on a day only if its bars cover it (see `usable`); a day is available when at
least one fund and its benchmark are usable and both have a prior close.
API for other commands (`inavd backtest --days`): `available_days()`, `day_bars(day)`,
`build_day_session(day, universe)` and `session_file(day, cache_dir)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from inavd.calendar import Session, previous_session_day, session_for
from inavd.clock import NY
from inavd.domain.units import NS_PER_S
from inavd.errors import DataError
from inavd.feeds.synthetic import read_bar_file

MINUTE_NS = 60 * NS_PER_S
PRICE_SCALE = 10_000  # the 2025 bundle stores prices in integer units of 1e-4 USD
MIN_COVERAGE_FUND = 0.25  # a thin fund trades in a quarter of the minutes at least
MIN_COVERAGE_BENCHMARK = 0.5
EDGE_SLACK_MIN = 30  # first bar ≤ 30 min after the open, last ≥ 30 min before the close
BENCHMARKS = ("SPY", "QQQ", "IWM", "DIA")


@dataclass(frozen=True, slots=True)
class DayBars:
    day: date
    bars: dict[str, pd.DataFrame]  # usable symbols only; ET minute index, Open…Volume
    prior_close: dict[str, float]  # every symbol with a prior session in the data
    source: str


def _data() -> Path:
    return Path(str(files("inavd") / "data"))


ByDay = dict[date, pd.DataFrame]


def _split_days(bars: pd.DataFrame) -> ByDay:
    days = pd.DatetimeIndex(bars.index).date
    return {cast(date, d): part for d, part in bars.groupby(days)}


def _symbols_2019() -> list[str]:
    return sorted(p.stem for p in (_data() / "sample" / "bars").glob("*.csv"))


@lru_cache(maxsize=32)
def _symbol_2019(sym: str) -> ByDay:
    return _split_days(read_bar_file(_data() / "sample" / "bars" / f"{sym}.csv"))


def _bars_2019(symbols: Iterable[str] | None = None) -> dict[str, ByDay]:
    """Read per symbol, lazily: a start-up that needs two prior closes reads two files."""
    wanted = _symbols_2019() if symbols is None else [s for s in _symbols_2019() if s in symbols]
    return {s: _symbol_2019(s) for s in wanted}


@lru_cache(maxsize=1)
def _bars_2025() -> dict[str, ByDay]:
    df = pd.read_parquet(_data() / "days" / "bars-2025.parquet")
    ts = pd.to_datetime(df["minute"].astype(np.int64) * 60, unit="s", utc=True)
    out: dict[str, ByDay] = {}
    for sym, part in df.assign(ts=ts).groupby("symbol", observed=True):
        frame = pd.DataFrame(
            {c.capitalize(): part[c].to_numpy() / PRICE_SCALE for c in ("open", "high", "low")}
            | {"Close": part["close"].to_numpy() / PRICE_SCALE},
            index=pd.DatetimeIndex(part["ts"]).tz_convert(NY).as_unit("ns"),
        )
        frame["Volume"] = part["volume"].to_numpy(dtype=float)
        out[str(sym)] = _split_days(frame)
    return out


@lru_cache(maxsize=1)
def _daily_closes() -> dict[tuple[str, date], float]:
    df = pd.read_csv(_data() / "sample" / "daily_closes.csv", dtype={"symbol": str, "date": str})
    return {
        (s, date.fromisoformat(d)): float(c)
        for s, d, c in zip(df["symbol"], df["date"], df["close"], strict=True)
    }


def usable(bars: pd.DataFrame, session: Session, min_coverage: float) -> bool:
    """Bars in enough of the session's minutes, starting near the open and ending near the close
    (a file that starts at 11:00 or stops at 10:59 does not make a session)."""
    if bars.empty:
        return False
    minutes = (session.close_ns - session.open_ns) // MINUTE_NS
    idx = pd.DatetimeIndex(bars.index).as_unit("ns")
    first = (idx[0].value - session.open_ns) // MINUTE_NS
    last = (session.close_ns - idx[-1].value) // MINUTE_NS
    in_session = (idx.asi8 >= session.open_ns) & (idx.asi8 < session.close_ns)
    return (
        int(in_session.sum()) >= minutes * min_coverage
        and first <= EDGE_SLACK_MIN
        and last <= EDGE_SLACK_MIN + 1
    )


def _prior_close(all_bars: ByDay, sym: str, prev: date, official: bool) -> float | None:
    if official:
        c = _daily_closes().get((sym, prev))
        if c is not None:
            return c
    session = session_for(prev)
    prior = all_bars.get(prev)
    if session is None or prior is None:
        return None
    regular = prior[pd.DatetimeIndex(prior.index).as_unit("ns").asi8 < session.close_ns]
    return float(regular["Close"].iloc[-1]) if len(regular) else None


def day_bars(day: date, symbols: Iterable[str] | None = None) -> DayBars:
    """The usable real bars of `day` and the prior closes of those symbols (all, or `symbols`)."""
    session = session_for(day)
    if session is None:
        raise DataError(f"{day} is not an exchange session")
    if day.year < 2025:
        source, store = "sample", _bars_2019(symbols)
    else:
        source, store = "days", _bars_2025()
        if symbols is not None:
            store = {s: v for s, v in store.items() if s in set(symbols)}
    prev = previous_session_day(day)
    bars: dict[str, pd.DataFrame] = {}
    prior: dict[str, float] = {}
    for sym, all_bars in store.items():
        close = _prior_close(all_bars, sym, prev, official=source == "sample")
        if close is None:
            continue  # no prior close: the symbol cannot be priced on this day
        prior[sym] = close
        today = all_bars.get(day)
        need = MIN_COVERAGE_BENCHMARK if sym in BENCHMARKS else MIN_COVERAGE_FUND
        if today is not None and usable(today, session, need):
            bars[sym] = today
    return DayBars(day, bars, prior, source)


def bars_prior_closes(day: date, symbols: Iterable[str]) -> dict[str, float]:
    """The prior session's last regular bar of each of `symbols` found in the bundled bars."""
    store = _bars_2019(symbols) if day.year < 2025 else _bars_2025()
    prev = previous_session_day(day)
    out = {}
    for sym in symbols:
        by_day = store.get(sym)
        close = None if by_day is None else _prior_close(by_day, sym, prev, official=False)
        if close is not None:
            out[sym] = close
    return out


def funds_of_day(db: DayBars, fund_benchmarks: dict[str, str]) -> list[str]:
    """Configured funds whose bars and whose benchmark's bars are usable on the day."""
    return [f for f, b in fund_benchmarks.items() if f in db.bars and b in db.bars]


@lru_cache(maxsize=1)
def _candidate_days() -> tuple[date, ...]:
    days: set[date] = set()
    for store in (_bars_2019(), _bars_2025()):
        for by_day in store.values():
            days.update(by_day)
    return tuple(sorted(days))


def available_days(fund_benchmarks: dict[str, str] | None = None) -> list[date]:
    """Every bundled day with at least one usable fund (the default universe's funds)."""
    from inavd.settings import load_config

    if fund_benchmarks is None:
        spec = load_config(None).universe
        fund_benchmarks = {s: f.benchmark for s, f in spec.funds.items()}
    return [
        d
        for d in _candidate_days()
        if session_for(d) is not None and funds_of_day(day_bars(d), fund_benchmarks)
    ]
