"""Checks of a quote file's text and loosely typed columns (pandas): numbers that are not
numbers, empty or unparseable times, ISO times without an offset. A typed Parquet file (integer
`ts`, numeric prices and sizes) needs none of them and is read without pandas (`quote_file`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inavd.errors import DataError

NUMBER_COLUMNS = ("bid", "ask", "bid_size", "ask_size")
_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"


class Checks:
    def __init__(self, path: Path, tz: str) -> None:
        self.path = path
        self.tz = tz

    def clean(self, chunk: pd.DataFrame, first_row: int) -> pd.DataFrame:
        out = pd.DataFrame({"ts": self.ts(chunk["ts"], first_row)}, index=chunk.index)
        out["symbol"] = chunk["symbol"]
        for col in NUMBER_COLUMNS:
            out[col] = self.number(chunk[col], col, first_row)
        return out

    def number(self, col: pd.Series, name: str, first_row: int) -> np.ndarray:
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

    def ts(self, ts: pd.Series, first_row: int) -> np.ndarray:
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
