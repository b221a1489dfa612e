"""A recorded quote file read in chunks, checked as it is read: refused or repaired, never misread.

Parquet is read one record batch at a time, CSV `chunk_rows` lines at a time, so a replay's memory
does not grow with the file. A first pass reads only the `ts` column (one chunk at a time) to find
the session days, the number of quotes of each and whether the file is in time order; the second
pass hands out the chosen day's quotes.

* a `ts` that is empty or not a time, or a price or size that is not a number: one line naming
  the file, the column and the row (rows count data rows from 1, the header not included);
* ISO timestamps without an offset need the zone they were written in (`--tz`, `feed.tz`): they
  are refused with a line saying so rather than read as UTC; epoch integers are UTC by definition;
* a file out of time order is sorted in memory with a warning (it then cannot be streamed);
* null symbols become unknown symbols (rejected and counted by the book).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import structlog

from inavd.clock import NY
from inavd.errors import DataError

log = structlog.get_logger(__name__)

QUOTE_COLUMNS = ("ts", "symbol", "bid", "ask", "bid_size", "ask_size")
NUMBER_COLUMNS = ("bid", "ask", "bid_size", "ask_size")
CHUNK_ROWS = 65_536
_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"


@dataclass
class Scan:
    """What the first pass learned: quotes per session day and whether `ts` never goes back."""

    per_day: Counter[date] = field(default_factory=Counter)
    in_order: bool = True
    rows: int = 0

    @property
    def days(self) -> list[date]:
        return sorted(self.per_day)


class QuoteFile:
    def __init__(self, path: Path, tz: str = "", chunk_rows: int = CHUNK_ROWS) -> None:
        if not path.exists():
            raise DataError(f"{path}: file not found")
        kind = path.suffix.lower()
        if kind not in (".parquet", ".pq", ".csv", ".gz"):
            raise DataError(f"{path}: unknown quote file type (use .csv or .parquet)")
        if tz:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise DataError(f"--tz / feed.tz: {tz!r} is not a known time zone") from None
        self.path = path
        self.tz = tz
        self.parquet = kind in (".parquet", ".pq")
        self.chunk_rows = chunk_rows

    # ------------------------------------------------------------------ raw chunks
    def _raw(self, columns: tuple[str, ...]) -> Iterator[pd.DataFrame]:
        try:
            if self.parquet:
                import pyarrow.parquet as pq

                # no pre-buffering: Arrow would keep the column chunks it read ahead (most of a
                # large file) until the reader is done
                pf = pq.ParquetFile(self.path, pre_buffer=False)
                self._check_columns(pf.schema_arrow.names)
                for rb in pf.iter_batches(batch_size=self.chunk_rows, columns=list(columns)):
                    yield rb.to_pandas()
            else:
                reader = pd.read_csv(
                    self.path, usecols=list(columns), chunksize=self.chunk_rows,
                    dtype={"symbol": "string", "ts": "string"} if "symbol" in columns
                    else {"ts": "string"},
                )  # fmt: skip
                yield from reader
        except DataError:
            raise
        except ValueError as exc:
            if "Usecols do not match" in str(exc):
                self._check_columns(pd.read_csv(self.path, nrows=0).columns)
            raise DataError(f"{self.path}: cannot read quotes: {exc}") from None
        except Exception as exc:  # pandas/pyarrow raise many types for unreadable files
            raise DataError(f"{self.path}: cannot read quotes: {exc}") from None

    def _typed_numbers(self) -> bool:
        if not self.parquet:
            return False
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(self.path)
        except Exception as exc:  # not Parquet after all, or damaged
            raise DataError(f"{self.path}: cannot read quotes: {exc}") from None
        self._check_columns(schema.names)
        return all(
            pa.types.is_integer(schema.field(c).type) or pa.types.is_floating(schema.field(c).type)
            for c in NUMBER_COLUMNS
        )

    def _check_columns(self, names: Any) -> None:
        missing = [c for c in QUOTE_COLUMNS if c not in set(names)]
        if missing:
            raise DataError(f"{self.path}: missing column(s) {', '.join(missing)}")

    # ------------------------------------------------------------------ passes
    def scan(self) -> Scan:
        """Every value is checked here, before the first quote is replayed (a typed Parquet
        file's numbers need no check: only its `ts` is read)."""
        out = Scan()
        last = np.iinfo(np.int64).min
        columns = ("ts",) if self._typed_numbers() else QUOTE_COLUMNS
        for chunk in self._raw(columns):
            ts = self._ts(chunk["ts"], out.rows) if len(columns) == 1 else (
                self._clean(chunk, out.rows)["ts"].to_numpy()
            )
            out.rows += len(ts)
            if len(ts):
                out.in_order &= bool(ts[0] >= last) and bool((np.diff(ts) >= 0).all())
                last = int(ts[-1])
                numbers, counts = np.unique(_days(ts), return_counts=True)
                for k, c in zip(numbers.tolist(), counts.tolist(), strict=True):
                    out.per_day[date.fromordinal(k + _EPOCH)] += c
        return out

    def chunks(self, day: date, in_order: bool = True) -> Iterator[pd.DataFrame]:
        """The day's quotes with `ts` in epoch ns and numbers checked; sorted if needed."""
        if not in_order:
            yield self._sorted_day(day)
            return
        row, number = 0, _day_number(day)
        for chunk in self._raw(QUOTE_COLUMNS):
            part = self._clean(chunk, row)
            row += len(chunk)
            part = part[_days(part["ts"].to_numpy()) == number]
            if len(part):
                yield part

    def _sorted_day(self, day: date) -> pd.DataFrame:
        parts, row, number = [], 0, _day_number(day)
        for chunk in self._raw(QUOTE_COLUMNS):
            part = self._clean(chunk, row)
            row += len(chunk)
            parts.append(part[_days(part["ts"].to_numpy()) == number])
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        log.warning(
            "quote file is not in time order: sorted in memory (stable, by ts)",
            file=str(self.path),
            rows=len(df),
        )
        return df.sort_values("ts", kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------------ checks
    def _clean(self, chunk: pd.DataFrame, first_row: int) -> pd.DataFrame:
        out = pd.DataFrame({"ts": self._ts(chunk["ts"], first_row)}, index=chunk.index)
        out["symbol"] = chunk["symbol"]
        for col in NUMBER_COLUMNS:
            out[col] = self._number(chunk[col], col, first_row)
        return out

    def _number(self, col: pd.Series, name: str, first_row: int) -> np.ndarray:
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            return col.to_numpy(dtype=np.float64, na_value=np.nan)
        values = pd.to_numeric(col, errors="coerce")
        text = col.astype("string").str.strip()
        bad = values.isna().to_numpy() & text.notna().to_numpy() & (text != "").to_numpy()
        if bad.any():
            k = int(np.argmax(bad))
            raise DataError(
                f"{self.path}: column {name}: row {first_row + k + 1}: "
                f"{col.iloc[k]!r} is not a number"
            )
        return values.to_numpy(dtype=np.float64, na_value=np.nan)

    def _ts(self, ts: pd.Series, first_row: int) -> np.ndarray:
        empty = ts.isna().to_numpy()
        if empty.any():
            k = int(np.argmax(empty))
            raise DataError(f"{self.path}: column ts: row {first_row + k + 1}: empty timestamp")
        if pd.api.types.is_integer_dtype(ts):
            return ts.to_numpy(dtype=np.int64)
        if pd.api.types.is_datetime64_any_dtype(ts):  # a typed Parquet timestamp column
            if getattr(ts.dt, "tz", None) is None:
                if not self.tz:
                    raise DataError(
                        f"{self.path}: column ts: timestamps have no time zone; give the zone "
                        "they were written in with --tz (e.g. --tz America/New_York or --tz UTC)"
                    )
                ts = ts.dt.tz_localize(self.tz)
            return np.asarray(ts.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64"))
        text = ts.astype("string")
        if text.str.fullmatch(r"\s*\d+\s*").all():  # epoch ns written as text
            return text.astype("int64").to_numpy(dtype=np.int64)
        return self._iso(text, first_row)

    def _iso(self, text: pd.Series, first_row: int) -> np.ndarray:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        bad = parsed.isna().to_numpy()
        if bad.any():
            k = int(np.argmax(bad))
            raise DataError(
                f"{self.path}: column ts: row {first_row + k + 1}: {text.iloc[k]!r} is not a time"
            )
        aware = text.str.contains(_OFFSET, regex=True).to_numpy(dtype=bool)
        if not aware.all():
            if not self.tz:
                k = int(np.argmin(aware))
                raise DataError(
                    f"{self.path}: column ts: row {first_row + k + 1}: {text.iloc[k]!r} has no"
                    " UTC offset; give the zone the file was written in with --tz (e.g. --tz "
                    "America/New_York or --tz UTC)"
                )
            naive = pd.to_datetime(text[~aware], format="ISO8601")
            try:
                local = naive.dt.tz_localize(self.tz, ambiguous="raise", nonexistent="raise")
            except Exception as exc:  # an hour that DST skips or repeats
                raise DataError(f"{self.path}: column ts: {exc} (zone {self.tz!r})") from None
            parsed[~aware] = local.dt.tz_convert("UTC")
        return np.asarray(parsed.dt.as_unit("ns").astype("int64").to_numpy(), dtype=np.int64)


_NS_PER_DAY = 86_400 * 10**9
_EPOCH = date(1970, 1, 1).toordinal()


def _days(ts: np.ndarray) -> np.ndarray:
    """Session day (New York) of each epoch-ns time, as days since 1970-01-01 (int64: no Python
    date object per row)."""
    local = pd.DatetimeIndex(np.asarray(ts, dtype="datetime64[ns]"), tz="UTC").tz_convert(NY)
    return np.asarray(local.tz_localize(None).asi8 // _NS_PER_DAY, dtype=np.int64)


def _day_number(day: date) -> int:
    return day.toordinal() - _EPOCH
