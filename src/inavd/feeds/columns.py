"""Columnar quote tables (ts, symbol, bid, ask, bid_size, ask_size) ↔ QuoteBatch."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from inavd.clock import NY
from inavd.domain.quotes import UNKNOWN_SYMBOL, QuoteBatch
from inavd.errors import DataError

QUOTE_COLUMNS = ("ts", "symbol", "bid", "ask", "bid_size", "ask_size")


def read_quote_table(path: Path) -> pd.DataFrame:
    """Read a recorded quote file (CSV or Parquet). `ts` is epoch ns or an ISO timestamp."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        elif path.suffix.lower() in (".csv", ".gz"):
            df = pd.read_csv(path)
        else:
            raise DataError(f"{path}: unknown quote file type (use .csv or .parquet)")
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for unreadable files
        raise DataError(f"{path}: cannot read quotes: {exc}") from None
    missing = [c for c in QUOTE_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    df["ts"] = _to_ns(df["ts"], path)
    return df


def _to_ns(ts: pd.Series, path: Path) -> pd.Series:
    if pd.api.types.is_integer_dtype(ts):
        return ts.astype("int64")
    try:
        parsed = pd.to_datetime(ts, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path}: column ts: unparsable timestamp ({exc})") from None
    # pandas may parse to µs resolution: convert the unit explicitly before taking integers
    return pd.Series(parsed.dt.as_unit("ns").astype("int64"), index=ts.index)


def session_days(df: pd.DataFrame) -> list[date]:
    days = pd.to_datetime(df["ts"], utc=True, unit="ns").dt.tz_convert(NY).dt.date
    return sorted(set(days))


def select_day(df: pd.DataFrame, day: date) -> pd.DataFrame:
    days = pd.to_datetime(df["ts"], utc=True, unit="ns").dt.tz_convert(NY).dt.date
    return df[days == day]


def to_batch(df: pd.DataFrame, index: dict[str, int]) -> QuoteBatch:
    """Map symbols onto universe slots (unknown → -1, rejected by the book)."""
    # a null symbol factorizes to -1: it must stay unknown, not index the table from the end
    codes, uniques = pd.factorize(df["symbol"])
    lut = np.array([index.get(str(s), UNKNOWN_SYMBOL) for s in uniques] + [UNKNOWN_SYMBOL])
    sym = lut[codes].astype(np.int32)
    return QuoteBatch(
        ts_ns=df["ts"].to_numpy(dtype=np.int64),
        sym=np.ascontiguousarray(sym, dtype=np.int32),
        bid=df["bid"].to_numpy(dtype=np.float64, na_value=np.nan),
        ask=df["ask"].to_numpy(dtype=np.float64, na_value=np.nan),
        bid_size=df["bid_size"].to_numpy(dtype=np.float64, na_value=np.nan),
        ask_size=df["ask_size"].to_numpy(dtype=np.float64, na_value=np.nan),
    )


def write_quote_table(path: Path, df: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.loc[:, list(QUOTE_COLUMNS)]  # copy-on-write: the caller's frame is not changed
    out["symbol"] = out["symbol"].astype("category")
    if path.suffix.lower() == ".csv":
        out.to_csv(path, index=False)
    else:
        # row groups of 64 k quotes: a replay decodes one at a time (memory flat in the length);
        # quotes in time order say so, and a replay then takes its first pass from the footer
        import pyarrow.parquet as pq

        ordered = bool(out["ts"].is_monotonic_increasing)
        out.to_parquet(
            path,
            index=False,
            compression="zstd",
            row_group_size=65_536,
            sorting_columns=[pq.SortingColumn(QUOTE_COLUMNS.index("ts"))] if ordered else None,
        )
