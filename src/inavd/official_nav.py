"""Official prior NAVs (and AUM) from an operator's file of issuer NAVs.

Accepted layouts (one file, or a directory of `.csv` files, e.g. one issuer download per fund):
- the ProShares "historical NAV" download: `Date,ProShares Name,Ticker,NAV,Prior NAV,...,
  Shares Outstanding (000),Assets Under Management` (dates `MM/DD/YYYY`, newest first);
- a plain CSV: `date,fund,nav[,shares_outstanding][,aum]` (ISO dates).
A fund with a NAV struck at the prior session is priced from it, and its AUM feeds the flow
estimate; every other fund falls back to its prior close and is flagged (`/status`, journal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from inavd.calendar import previous_session_day
from inavd.errors import DataError
from inavd.inav.engine import Reference

if TYPE_CHECKING:
    import pandas as pd

PROSHARES = {
    "Date": "date",
    "Ticker": "fund",
    "NAV": "nav",
    "Shares Outstanding (000)": "shares_k",
    "Assets Under Management": "aum",
}


@dataclass(frozen=True, slots=True)
class NavRecord:
    nav: float
    shares_outstanding: float  # shares (NaN when the file has none)
    aum_usd: float  # NaN when the file has none


@dataclass(frozen=True, slots=True)
class OfficialNavs:
    records: dict[tuple[str, date], NavRecord]
    source: str


def read_nav_file(path: Path) -> OfficialNavs:
    if path.is_dir():
        paths = sorted(path.glob("*.csv"))
        if not paths:
            raise DataError(f"{path}: no .csv files of issuer NAVs")
    elif path.exists():
        paths = [path]
    else:
        raise DataError(f"{path}: NAV file not found")
    records: dict[tuple[str, date], NavRecord] = {}
    for p in paths:
        records.update(_read_one(p))
    return OfficialNavs(records, str(path))


def _read_one(path: Path) -> dict[tuple[str, date], NavRecord]:
    import pandas as pd  # only when a NAV file is configured

    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read the NAV file: {exc}") from None
    if set(PROSHARES) <= set(raw.columns):
        df = raw.rename(columns=PROSHARES)
        df["shares_outstanding"] = pd.to_numeric(df["shares_k"], errors="coerce") * 1000.0
        dates = pd.to_datetime(df["date"], format="%m/%d/%Y", errors="coerce")
    elif {"date", "fund", "nav"} <= set(raw.columns):
        df = raw
        dates = pd.to_datetime(df["date"], format="%Y-%m-%d", errors="coerce")
    else:
        raise DataError(
            f"{path}: not a NAV file: expected the ProShares layout or date,fund,nav"
            "[,shares_outstanding][,aum]"
        )
    bad = dates.isna()
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2
        raise DataError(f"{path}: line {line}: unreadable date {df['date'].iloc[line - 2]!r}")
    nav = pd.to_numeric(df["nav"], errors="coerce")
    shares = _optional(df, "shares_outstanding")
    aum = _optional(df, "aum")
    return {
        (str(f).strip(), d.date()): NavRecord(float(n), float(s), float(a))
        for f, d, n, s, a in zip(df["fund"], dates, nav, shares, aum, strict=True)
        if math.isfinite(n) and n > 0
    }


def _optional(df: pd.DataFrame, col: str) -> pd.Series:
    import pandas as pd

    if col not in df.columns:
        return pd.Series(math.nan, index=df.index)
    return pd.to_numeric(df[col], errors="coerce")


def apply_official_navs(ref: Reference, navs: OfficialNavs, day: date) -> Reference:
    """Prior NAV and AUM from the records struck at the prior session; other funds keep theirs."""
    prev = previous_session_day(day)
    prior_nav = dict(ref.prior_nav)
    aum = dict(ref.aum_usd)
    official = set(ref.official_nav)
    for (fund, d), rec in navs.records.items():
        if d != prev:
            continue
        prior_nav[fund] = rec.nav
        official.add(fund)
        if math.isfinite(rec.aum_usd) and rec.aum_usd > 0:
            aum[fund] = rec.aum_usd
    return msgspec.structs.replace(
        ref, prior_nav=prior_nav, aum_usd=aum, official_nav=frozenset(official)
    )
