"""Rebuild `src/inavd/data/days/bars-2025.parquet` from the origin CSV files (provenance:
`src/inavd/data/days/PROVENANCE.md`). Usage: python tools/build_bundled_days.py SOURCE_DIR

SOURCE_DIR holds the files named in PROVENANCE.md. Kept: regular-session bars (09:30–15:59 ET;
the 16:00 bar and extended hours dropped), one row per (symbol, minute), benchmark and fund bars
only for the windows where the fund's benchmark has bars too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parents[1] / "src" / "inavd" / "data" / "days" / "bars-2025.parquet"
EPOCH = pd.Timestamp(0, tz="UTC")
PRICE_SCALE = 10_000
APR_JUN = ("2025-04-01", "2025-06-30")
AUG_SEP = ("2025-08-18", "2025-09-19")
FILES = [
    # (file, symbol, time column, window)
    ("QQQ_2025_04_1min.csv", "QQQ", "timestamp", APR_JUN),
    ("QQQ_2025_05_1min.csv", "QQQ", "timestamp", APR_JUN),
    ("QQQ_2025_06_1min.csv", "QQQ", "timestamp", APR_JUN),
    ("TQQQ_1min_2025.csv", "TQQQ", "ts_utc", APR_JUN),
    ("SQQQ_1min_2025.csv", "SQQQ", "ts_utc", APR_JUN),
    ("multi_SPY_1m_2025-08-18_2025-09-19.csv", "SPY", "timestamp", AUG_SEP),
    ("multi_QQQ_1m_2025-08-18_2025-09-19.csv", "QQQ", "timestamp", AUG_SEP),
    ("multi_IWM_1m_2025-08-18_2025-09-19.csv", "IWM", "timestamp", AUG_SEP),
    ("multi_DIA_1m_2025-08-18_2025-09-19.csv", "DIA", "timestamp", AUG_SEP),
    ("SSO_1min_2025.csv", "SSO", "ts_utc", AUG_SEP),
    ("SDS_1min_2025.csv", "SDS", "ts_utc", AUG_SEP),
    ("TNA_1min_2025.csv", "TNA", "ts_utc", AUG_SEP),
    ("TZA_1min_2025.csv", "TZA", "ts_utc", AUG_SEP),
]


def _one(src: Path, name: str, sym: str, tcol: str, window: tuple[str, str]) -> pd.DataFrame:
    raw = pd.read_csv(src / name)
    # both layouts carry an explicit offset (UTC or ET): parse to UTC, decide the session in ET
    ts = pd.to_datetime(raw[tcol], utc=True, format="ISO8601")
    et = ts.dt.tz_convert("America/New_York")
    hhmm = et.dt.hour * 100 + et.dt.minute
    day = et.dt.strftime("%Y-%m-%d")
    keep = (hhmm >= 930) & (hhmm < 1600) & (day >= window[0]) & (day <= window[1])
    out = pd.DataFrame(
        {
            "symbol": sym,
            "minute": ((ts[keep] - EPOCH) // pd.Timedelta(minutes=1)).astype("int32"),
            "open": raw.loc[keep, "open"].astype(float),
            "high": raw.loc[keep, "high"].astype(float),
            "low": raw.loc[keep, "low"].astype(float),
            "close": raw.loc[keep, "close"].astype(float),
            "volume": raw.loc[keep, "volume"].astype(float),
        }
    )
    return out.drop_duplicates(subset=["symbol", "minute"], keep="first")


def main(src: Path) -> None:
    df = pd.concat([_one(src, *f) for f in FILES], ignore_index=True)
    df = df.drop_duplicates(subset=["symbol", "minute"], keep="first")
    df = df.sort_values(["symbol", "minute"], ignore_index=True)
    for col in ("open", "high", "low", "close"):  # integer units of 1e-4 USD, exact
        df[col] = (df[col] * PRICE_SCALE).round().astype("int32")
    df["volume"] = df["volume"].round().astype("int64")
    df["symbol"] = df["symbol"].astype("category")
    delta = {c: "DELTA_BINARY_PACKED" for c in ("minute", "open", "high", "low", "close", "volume")}
    pq.write_table(
        pa.Table.from_pandas(df, preserve_index=False),
        OUT,
        compression="zstd",
        compression_level=19,
        use_dictionary=["symbol"],
        column_encoding=delta,
    )
    print(f"{len(df):,} bars, {df['symbol'].nunique()} symbols → {OUT.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
