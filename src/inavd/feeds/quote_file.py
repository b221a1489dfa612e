"""A recorded quote file read in chunks, checked as it is read: refused or repaired, never misread.

Parquet is read one record batch at a time, CSV `chunk_rows` lines at a time, so a replay's memory
does not grow with the file. A first pass reads only the `ts` column (one chunk at a time) to find
the session days, the number of quotes of each and whether the file is in time order (a Parquet
file that declares its order is read from its footer instead); the second pass hands out the
chosen day's quotes.

* a `ts` that is empty or not a time, or a price or size that is not a number: one line naming
  the file, the column and the row (rows count data rows from 1, the header not included);
* ISO timestamps without an offset need the zone they were written in (`--tz`, `feed.tz`): they
  are refused with a line saying so rather than read as UTC; epoch integers are UTC by definition;
* a file out of time order is sorted in memory with a warning (it then cannot be streamed);
* null symbols become unknown symbols (rejected and counted by the book).

A typed Parquet file (integer `ts`, numeric prices and sizes: what `inavd sample` and the bundled
session are) is read from its Arrow arrays straight into quote batches; other files go through
pandas and the checks of `quote_checks`, imported only then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import numpy as np
import structlog

from inavd.arrow_np import from_arrow
from inavd.clock import NY
from inavd.domain.quotes import UNKNOWN_SYMBOL, QuoteBatch
from inavd.errors import DataError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from inavd.feeds.quote_checks import Checks

log = structlog.get_logger(__name__)

QUOTE_COLUMNS = ("ts", "symbol", "bid", "ask", "bid_size", "ask_size")
NUMBER_COLUMNS = ("bid", "ask", "bid_size", "ask_size")
CHUNK_ROWS = 65_536


class Scan(msgspec.Struct):
    """What the first pass learned: quotes per session day and whether `ts` never goes back."""

    per_day: Counter[date] = msgspec.field(default_factory=Counter)
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
        self.declared_order = False  # the scan came from the footer: check the order as read

    # ------------------------------------------------------------------ raw chunks
    def _raw(self, columns: tuple[str, ...]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        try:
            if self.parquet:
                for rb in self._record_batches(columns):
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

    def _record_batches(
        self, columns: tuple[str, ...], rows: int | None = None
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        try:
            # no pre-buffering: Arrow would keep the column chunks it read ahead (most of a large
            # file) until the reader is done
            pf = pq.ParquetFile(self.path, pre_buffer=False)
            self._check_columns(pf.schema_arrow.names)
            yield from pf.iter_batches(batch_size=rows or self.chunk_rows, columns=list(columns))
        except DataError:
            raise
        except Exception as exc:  # pyarrow raises many types for unreadable files
            raise DataError(f"{self.path}: cannot read quotes: {exc}") from None

    @cached_property
    def _types(self) -> tuple[bool, bool]:
        """(prices and sizes are numbers, `ts` is an integer) in a Parquet file's schema."""
        if not self.parquet:
            return False, False
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(self.path)
        except Exception as exc:  # not Parquet after all, or damaged
            raise DataError(f"{self.path}: cannot read quotes: {exc}") from None
        self._check_columns(schema.names)
        numbers = all(
            pa.types.is_integer(schema.field(c).type) or pa.types.is_floating(schema.field(c).type)
            for c in NUMBER_COLUMNS
        )
        return numbers, pa.types.is_integer(schema.field("ts").type)

    @property
    def _arrow(self) -> bool:
        """Read from Arrow arrays, without pandas: every column typed, nothing to parse."""
        numbers, integer_ts = self._types
        return numbers and integer_ts

    @cached_property
    def _checks(self) -> Checks:
        from inavd.feeds.quote_checks import Checks

        return Checks(self.path, self.tz)

    def _check_columns(self, names: Any) -> None:
        missing = [c for c in QUOTE_COLUMNS if c not in set(names)]
        if missing:
            raise DataError(f"{self.path}: missing column(s) {', '.join(missing)}")

    # ------------------------------------------------------------------ passes
    def scan(self) -> Scan:
        """Every value is checked here, before the first quote is replayed (a typed Parquet
        file's numbers need no check: only its `ts` is read; one that declares its order is
        read from its footer, see `_declared_scan`)."""
        declared = self._declared_scan() if self._arrow else None
        if declared is not None:
            return declared
        out = Scan()
        last = np.iinfo(np.int64).min
        for ts in self._ts_chunks():
            out.rows += len(ts)
            if not len(ts):
                continue
            ordered = bool((np.diff(ts) >= 0).all())
            out.in_order &= ordered and bool(ts[0] >= last)
            last = int(ts[-1])
            days = ny_day_numbers(ts)
            if ordered and days[0] == days[-1]:  # the usual chunk: one day, in order
                out.per_day[date.fromordinal(int(days[0]) + _EPOCH)] += len(ts)
                continue
            numbers, counts = np.unique(days, return_counts=True)
            for k, c in zip(numbers.tolist(), counts.tolist(), strict=True):
                out.per_day[date.fromordinal(k + _EPOCH)] += c
        return out

    def _declared_scan(self) -> Scan | None:
        """The first pass from the Parquet footer alone, for a file whose row groups declare
        they are sorted by `ts` (what `write_quote_table` writes): each row group's `ts`
        statistics (no nulls, one session day from min to max, never before the previous row
        group's max) give the days and their counts without decoding a timestamp. The
        declaration itself is checked as the quotes are replayed (`_arrow_day`). None when
        anything is missing: the file is then scanned."""
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(self.path).metadata
        except Exception:  # damaged: the full scan reports it with the file's name
            return None
        ts_col = meta.schema.names.index("ts") if "ts" in meta.schema.names else -1
        out, last = Scan(), np.iinfo(np.int64).min
        for k in range(meta.num_row_groups):
            rg = meta.row_group(k)
            first = rg.sorting_columns[0] if rg.sorting_columns else None
            if first is None or first.column_index != ts_col or first.descending:
                return None
            stats = rg.column(ts_col).statistics
            if stats is None or not stats.has_min_max or stats.null_count != 0:
                return None
            lo, hi = int(stats.min), int(stats.max)
            days = ny_day_numbers(np.array([lo, hi], dtype=np.int64))
            if lo < last or days[0] != days[1]:
                return None
            out.per_day[date.fromordinal(int(days[0]) + _EPOCH)] += rg.num_rows
            out.rows += rg.num_rows
            last = hi
        self.declared_order = True
        return out

    def _ts_chunks(self) -> Iterator[np.ndarray]:
        rows = 0
        if self._arrow:  # 8 bytes a row: larger chunks, memory still bounded
            for rb in self._record_batches(("ts",), 8 * self.chunk_rows):
                yield self._arrow_ts(rb.column(0), rows)
                rows += rb.num_rows
            return
        typed_numbers = self._types[0]
        for chunk in self._raw(("ts",) if typed_numbers else QUOTE_COLUMNS):
            yield (
                self._checks.ts(chunk["ts"], rows)
                if typed_numbers
                else self._checks.clean(chunk, rows)["ts"].to_numpy()
            )
            rows += len(chunk)

    def batches(
        self, day: date, index: dict[str, int], in_order: bool = True
    ) -> Iterator[QuoteBatch]:
        """The day's quotes as batches over the universe's slots (`index`; unknown → -1)."""
        if self._arrow and in_order:
            yield from self._arrow_day(day, index)
            return
        from inavd.feeds.columns import to_batch

        for chunk in self.chunks(day, in_order):
            yield to_batch(chunk, index)

    def _arrow_day(self, day: date, index: dict[str, int]) -> Iterator[QuoteBatch]:
        rows, number, last = 0, _day_number(day), np.iinfo(np.int64).min
        symbols = _SymbolSlots(index)
        for rb in self._record_batches(QUOTE_COLUMNS):
            ts = self._arrow_ts(rb.column(0), rows)
            if self.declared_order and len(ts):
                last = self._check_declared(ts, rows, last)
            rows += rb.num_rows
            keep = ny_day_numbers(ts) == number
            if not keep.any():
                continue
            cols = [ts, symbols(rb.column(1))] + [_floats(rb.column(i)) for i in range(2, 6)]
            if not keep.all():
                cols = [c[keep] for c in cols]
            yield QuoteBatch(*cols)

    def _check_declared(self, ts: np.ndarray, first_row: int, last: int) -> int:
        """A file read on its declared order (no first pass) that goes back in time is damaged:
        refused at the first such row rather than replayed out of order."""
        back = np.diff(ts) < 0
        if ts[0] < last or back.any():
            k = 0 if ts[0] < last else int(np.argmax(back)) + 1
            raise DataError(
                f"{self.path}: column ts: row {first_row + k + 1} goes back in time, although"
                " the file declares it sorted by ts (rewrite it with `inavd sample` or without"
                " the declaration)"
            )
        return int(ts[-1])

    def _arrow_ts(self, col: pa.Array, first_row: int) -> np.ndarray:
        values, valid = from_arrow(col)
        if valid is not None:
            k = int(np.argmin(valid))
            raise DataError(f"{self.path}: column ts: row {first_row + k + 1}: empty timestamp")
        return values.astype(np.int64, copy=False)

    def chunks(self, day: date, in_order: bool = True) -> Iterator[pd.DataFrame]:
        """The day's quotes with `ts` in epoch ns and numbers checked; sorted if needed."""
        if not in_order:
            yield self._sorted_day(day)
            return
        row, number = 0, _day_number(day)
        for chunk in self._raw(QUOTE_COLUMNS):
            part = self._checks.clean(chunk, row)
            row += len(chunk)
            part = part[ny_day_numbers(part["ts"].to_numpy()) == number]
            if len(part):
                yield part

    def _sorted_day(self, day: date) -> pd.DataFrame:
        import pandas as pd

        parts, row, number = [], 0, _day_number(day)
        for chunk in self._raw(QUOTE_COLUMNS):
            part = self._checks.clean(chunk, row)
            row += len(chunk)
            parts.append(part[ny_day_numbers(part["ts"].to_numpy()) == number])
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        log.warning(
            "quote file is not in time order: sorted in memory (stable, by ts)",
            file=str(self.path),
            rows=len(df),
        )
        return df.sort_values("ts", kind="stable").reset_index(drop=True)


class _SymbolSlots:
    """Arrow symbol column → universe slots (null or unknown → -1); the lookup table is kept
    while the file's dictionary stays the same (Parquet repeats it per row group)."""

    def __init__(self, index: dict[str, int]) -> None:
        self.index = index
        self.dictionary: pa.Array | None = None
        self.lut = np.empty(0, dtype=np.int32)

    def __call__(self, col: pa.Array) -> np.ndarray:
        import pyarrow as pa

        if not pa.types.is_dictionary(col.type):
            col = col.dictionary_encode()
        if self.dictionary is None or not col.dictionary.equals(self.dictionary):
            self.dictionary = col.dictionary
            names = col.dictionary.to_pylist()
            slots = [self.index.get(str(s), UNKNOWN_SYMBOL) if s is not None else UNKNOWN_SYMBOL
                     for s in names]  # fmt: skip
            self.lut = np.array([*slots, UNKNOWN_SYMBOL], dtype=np.int32)
        codes, valid = from_arrow(col.indices)
        if valid is not None:  # a null symbol takes the table's last slot: unknown
            codes = np.where(valid, codes, len(self.lut) - 1)
        return np.asarray(self.lut[codes.astype(np.intp, copy=False)], dtype=np.int32)


def _floats(col: pa.Array) -> np.ndarray:
    """A numeric Arrow column as float64 (null → NaN, rejected by the book)."""
    values, valid = from_arrow(col)
    out = values.astype(np.float64, copy=valid is not None)
    if valid is not None:
        out[~valid] = np.nan
    return out


_NS_PER_S = 10**9
_NS_PER_HOUR = 3_600 * _NS_PER_S
_NS_PER_DAY = 86_400 * _NS_PER_S
_EPOCH = date(1970, 1, 1).toordinal()


def _ny_offset_ns(ts_ns: int) -> int:
    off = datetime.fromtimestamp(ts_ns // _NS_PER_S, UTC).astimezone(NY).utcoffset()
    assert off is not None
    return int(off.total_seconds()) * _NS_PER_S


def ny_day_numbers(ts: np.ndarray) -> np.ndarray:
    """Session day (New York) of each epoch-ns time, as days since 1970-01-01 (int64: no Python
    date object per row). New York changes its offset only on whole hours, months apart: a chunk
    of less than 30 days with one offset at both ends has that offset throughout."""
    ts = np.asarray(ts, dtype=np.int64)
    if not len(ts):
        return np.empty(0, dtype=np.int64)
    lo, hi = int(ts.min()), int(ts.max())
    off = _ny_offset_ns(lo)
    if off == _ny_offset_ns(hi) and hi - lo < 30 * _NS_PER_DAY:
        return (ts + off) // _NS_PER_DAY
    hours, where = np.unique(ts // _NS_PER_HOUR, return_inverse=True)
    offsets = np.array([_ny_offset_ns(int(h) * _NS_PER_HOUR) for h in hours], dtype=np.int64)
    return np.asarray((ts + offsets[where.ravel()]) // _NS_PER_DAY, dtype=np.int64)


def _day_number(day: date) -> int:
    return day.toordinal() - _EPOCH
