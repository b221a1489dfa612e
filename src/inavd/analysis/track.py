"""How closely a daily-reset fund tracked L × its benchmark (DOMAIN.md §5).

Reads daily price CSVs in the Yahoo layout (`Date, …, Adj Close`) or the Alpha Vantage layout
(`timestamp, …, adjusted_close`, newest first), aligns them on common dates and measures the daily
tracking difference TD = fund return − L × benchmark return.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inavd.analysis.decay import F64, fund_growth
from inavd.errors import ConfigError, DataError

# (date column, adjusted close column) per layout, matched case-insensitively.
LAYOUTS: tuple[tuple[str, str, str], ...] = (
    ("Yahoo", "Date", "Adj Close"),
    ("Alpha Vantage", "timestamp", "adjusted_close"),
)
MISSING_PRICE = {"", "null", "nan", "na", "n/a"}  # Yahoo writes "null" on holidays it lists
ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")
MAD_TO_STD = 1.4826  # robust std of a normal sample from its median absolute deviation
WORST_DAYS = 5
BP = 1e4


@dataclass(frozen=True, slots=True)
class WorstDay:
    date: str
    td_bp: float
    fund_return: float
    benchmark_return: float


@dataclass(frozen=True, slots=True)
class TrackStats:
    fund: str
    benchmark: str
    leverage: float
    start: str
    end: str
    days: int
    correlation: float
    td_mean_bp: float
    td_std_bp: float
    td_mad_std_bp: float
    fund_cum_return: float
    ideal_cum_return: float
    naive_cum_return: float
    worst_days: tuple[WorstDay, ...]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types; NaN (e.g. correlation of a constant series) becomes null."""
        out: dict[str, Any] = {}
        for key in self.__slots__:
            value = getattr(self, key)
            if key == "worst_days":
                value = [{k: _finite(getattr(w, k)) for k in w.__slots__} for w in value]
            out[key] = _finite(value)
        return out


@dataclass(frozen=True, slots=True)
class TrackResult:
    """Stats plus the aligned daily paths (for plotting); paths start at 0 on the first date."""

    stats: TrackStats
    dates: pd.DatetimeIndex
    fund_cum: F64
    ideal_cum: F64
    naive_cum: F64
    td_bp: F64


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------------------------- loading
def load_prices(path: Path) -> pd.Series:
    """Adjusted closes indexed by date, oldest first. Raises DataError naming the file."""
    frame = _read_csv(path)
    date_col, price_col = _find_columns(path, frame)
    prices = _parse_prices(path, frame[price_col], price_col)
    dates = _parse_dates(path, frame[date_col])
    series = pd.Series(prices, index=dates, name=path.stem).dropna()
    return _check_series(path, series.sort_index())


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a readable CSV file ({reason})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _find_columns(path: Path, frame: pd.DataFrame) -> tuple[str, str]:
    by_lower = {c.lower(): c for c in frame.columns}
    for _, date_name, price_name in LAYOUTS:
        if date_name.lower() in by_lower and price_name.lower() in by_lower:
            return by_lower[date_name.lower()], by_lower[price_name.lower()]
    wanted = " or ".join(f"'{d}' and '{p}' ({name})" for name, d, p in LAYOUTS)
    found = ", ".join(frame.columns) or "none"
    raise DataError(f"{path}: missing columns: expected {wanted}; found {found}")


def _parse_prices(path: Path, raw: pd.Series, column: str) -> F64:
    text = raw.str.strip()
    missing = text.str.lower().isin(MISSING_PRICE).to_numpy()
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(values) & ~missing)
    if bad.size:
        row = int(bad[0])
        raise DataError(f"{path}: line {row + 2}: unparsable {column} {text.iloc[row]!r}")
    return values


def _parse_dates(path: Path, raw: pd.Series) -> pd.DatetimeIndex:
    """ISO dates; a time or UTC offset after the date (yfinance writes one) is ignored."""
    day = raw.str.extract(ISO_DATE, expand=False)
    parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise DataError(f"{path}: line {row + 2}: unparsable date {raw.iloc[row]!r}")
    return pd.DatetimeIndex(parsed)


def _check_series(path: Path, series: pd.Series) -> pd.Series:
    if series.empty:
        raise DataError(f"{path}: no prices")
    duplicated = series.index[series.index.duplicated()]
    if len(duplicated):
        raise DataError(f"{path}: duplicate date {duplicated[0]:%Y-%m-%d} (not a daily file?)")
    non_positive = series[series <= 0.0]
    if len(non_positive):
        when, value = non_positive.index[0], float(non_positive.iloc[0])
        raise DataError(f"{path}: non-positive price {value:g} on {when:%Y-%m-%d}")
    return series


# ------------------------------------------------------------------------------------------ stats
def align(
    fund_path: Path,
    benchmark_path: Path,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Fund and benchmark prices on their common dates within [start, end]."""
    if start is not None and end is not None and start > end:
        raise ConfigError(f"--start {start} is after --end {end}")
    fund, bench = load_prices(fund_path), load_prices(benchmark_path)
    joined = pd.concat({"fund": fund, "bench": bench}, axis=1, join="inner")
    if joined.empty:
        raise DataError(
            f"{fund_path} and {benchmark_path}: no common dates ({_span(fund)} vs {_span(bench)})"
        )
    first = pd.Timestamp(start) if start is not None else joined.index[0]
    last = pd.Timestamp(end) if end is not None else joined.index[-1]
    window = joined.loc[first:last]
    if len(window) < 3:
        raise DataError(
            f"{fund_path} and {benchmark_path}: {len(window)} common dates in the chosen range, "
            "need at least 3"
        )
    return window


def _span(series: pd.Series) -> str:
    return f"{series.index[0]:%Y-%m-%d}…{series.index[-1]:%Y-%m-%d}"


def track(
    fund_path: Path,
    benchmark_path: Path,
    leverage: float,
    start: date | None = None,
    end: date | None = None,
) -> TrackResult:
    """Tracking statistics of `fund_path` against `leverage` × `benchmark_path`."""
    prices = align(fund_path, benchmark_path, start, end)
    fund_px = prices["fund"].to_numpy(dtype=np.float64)
    bench_px = prices["bench"].to_numpy(dtype=np.float64)
    fund_ret, bench_ret = fund_px[1:] / fund_px[:-1] - 1.0, bench_px[1:] / bench_px[:-1] - 1.0
    td = fund_ret - leverage * bench_ret
    dates = pd.DatetimeIndex(prices.index)
    fund_cum = fund_px / fund_px[0] - 1.0
    ideal_cum = np.concatenate(([0.0], fund_growth(bench_ret, leverage) - 1.0))
    naive_cum = leverage * (bench_px / bench_px[0] - 1.0)
    stats = TrackStats(
        fund=str(fund_path),
        benchmark=str(benchmark_path),
        leverage=float(leverage),
        start=f"{dates[0]:%Y-%m-%d}",
        end=f"{dates[-1]:%Y-%m-%d}",
        days=int(td.size),
        correlation=_correlation(fund_ret, bench_ret),
        td_mean_bp=float(td.mean() * BP),
        td_std_bp=float(td.std(ddof=1) * BP),
        td_mad_std_bp=float(MAD_TO_STD * np.median(np.abs(td - np.median(td))) * BP),
        fund_cum_return=float(fund_cum[-1]),
        ideal_cum_return=float(ideal_cum[-1]),
        naive_cum_return=float(naive_cum[-1]),
        worst_days=_worst_days(dates[1:], td, fund_ret, bench_ret),
    )
    return TrackResult(stats, dates, fund_cum, ideal_cum, naive_cum, td * BP)


def _correlation(a: F64, b: F64) -> float:
    if a.std() == 0.0 or b.std() == 0.0:
        return math.nan  # undefined for a constant series; np.corrcoef would warn
    return float(np.corrcoef(a, b)[0, 1])


def _worst_days(
    dates: pd.DatetimeIndex, td: F64, fund_ret: F64, bench_ret: F64
) -> tuple[WorstDay, ...]:
    order = np.argsort(-np.abs(td), kind="stable")[:WORST_DAYS]
    return tuple(
        WorstDay(
            date=f"{dates[i]:%Y-%m-%d}",
            td_bp=float(td[i] * BP),
            fund_return=float(fund_ret[i]),
            benchmark_return=float(bench_ret[i]),
        )
        for i in order
    )


# ------------------------------------------------------------------------------------------- text
def format_stats(s: TrackStats) -> str:
    """Human-readable summary, one figure per line."""
    lev = f"{s.leverage:g}"
    lines = [
        f"fund {s.fund} vs {lev} x benchmark {s.benchmark}",
        f"period                {s.start} .. {s.end} ({s.days} daily returns)",
        f"correlation           {s.correlation:.4f}",
        f"tracking difference   mean {s.td_mean_bp:+.2f} bp, std {s.td_std_bp:.2f} bp, "
        f"robust std {s.td_mad_std_bp:.2f} bp",
        f"cumulative return     fund {_pct(s.fund_cum_return)}, ideal daily-reset "
        f"{_pct(s.ideal_cum_return)}, naive {lev} x benchmark {_pct(s.naive_cum_return)}",
        "largest |TD| days:",
    ]
    lines += [
        f"  {w.date}  TD {w.td_bp:+9.2f} bp  fund {_pct(w.fund_return)}  "
        f"benchmark {_pct(w.benchmark_return)}"
        for w in s.worst_days
    ]
    return "\n".join(lines)


def _pct(fraction: float) -> str:
    return f"{fraction * 100:+.3f} %"


# ------------------------------------------------------------------------------------------- plot
def plot_track(result: TrackResult, png_path: Path) -> Path:
    """Fund vs ideal daily-reset vs naive cumulative returns, and daily TD below."""
    from inavd.analysis import date_axis, pyplot

    plt = pyplot()
    s = result.stats
    lev, fund, bench = f"{s.leverage:g}", Path(s.fund).stem, Path(s.benchmark).stem
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    x = result.dates.to_pydatetime()
    top.plot(x, result.fund_cum * 100, label=f"fund ({fund})", lw=1.4)
    sign = "+" if s.leverage >= 0 else "−"
    ideal = f"ideal daily reset ∏(1 {sign} {abs(s.leverage):g}·R) − 1"
    top.plot(x, result.ideal_cum * 100, label=ideal, lw=1.2)
    top.plot(x, result.naive_cum * 100, label=f"naive {lev} × benchmark return", lw=1.0, ls="--")
    if min(result.naive_cum.min(), result.fund_cum.min()) < -0.5:  # where naive goes absurd
        top.axhline(-100.0, color="black", lw=0.8, ls=":", label="−100 % (total loss)")
    top.set_ylabel("cumulative return (%)")
    top.set_title(f"{fund} vs {lev} × {bench}, {s.start} … {s.end} ({s.days} days)")
    top.legend(loc="best", fontsize=8)
    bottom.plot(x[1:], result.td_bp, lw=0.5, color="tab:gray")
    bottom.set_ylabel("daily TD (bp)")
    for ax in (top, bottom):
        date_axis(ax)
    fig.tight_layout()
    try:
        png_path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png_path, dpi=110)
    except OSError as exc:
        raise DataError(f"{png_path}: cannot write the plot ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
    return png_path
