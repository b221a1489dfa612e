"""Start-of-day reference data for the iNAV engine: prior closes (and prior NAVs) per symbol.

`[reference] source`:
- "sample": the bundled daily closes (replays of the sample session);
- "alpaca": the previous daily bar of Alpaca's snapshots (historical data REST);
- "file": a CSV the operator drops in: `symbol,prior_close[,prior_nav]`.

A value that is missing, non-positive, not finite or from the wrong day is dropped, never guessed:
the engine then leaves that fund unpriced and `report_excluded` logs it; the app keeps the list
(`App.excluded_funds`), which the ops metrics export as `inavd_reference_excluded_funds`.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import Any

import structlog

from inavd.calendar import previous_session_day, session_for
from inavd.clock import NY
from inavd.errors import ConfigError, DataError
from inavd.feeds.sample import reference_for
from inavd.inav.engine import Reference
from inavd.live_config import AlpacaSettings, Credentials, ReferenceSettings

log = structlog.get_logger(__name__)

def load_reference(
    s: ReferenceSettings,
    day: date,
    symbols: tuple[str, ...],
    alpaca: AlpacaSettings | None = None,
    creds: Credentials | None = None,
) -> Reference:
    prev = previous_session_day(day)
    prev_session = session_for(prev)
    if prev_session is None:
        raise DataError(f"{prev} is not a session")
    if s.source == "sample":
        return reference_for(day, symbols)
    if s.source == "file":
        closes, navs = read_reference_file(Path(s.path))
    else:
        if alpaca is None or creds is None:
            raise ConfigError("reference.source = 'alpaca' needs the [alpaca] section and keys")
        closes = alpaca_prior_closes(alpaca, creds, symbols, prev)
        navs = {}
    closes = {k: v for k, v in closes.items() if _valid(v)}
    navs = {k: v for k, v in navs.items() if _valid(v)}
    missing = sorted(set(symbols) - set(closes))
    if missing:
        log.warning("no valid prior close", symbols=missing, source=s.source, prior_day=str(prev))
    return Reference(prior_close=closes, prior_nav=navs, prior_strike_ns=prev_session.close_ns)


def _valid(v: float) -> bool:
    return math.isfinite(v) and v > 0


def read_reference_file(path: Path) -> tuple[dict[str, float], dict[str, float]]:
    """`symbol,prior_close[,prior_nav]`, read with the csv module: importing pandas for it cost a
    10,000-fund run 43 MB. A value that is empty or not a number becomes NaN (then dropped)."""
    if not path.exists():
        raise ConfigError(f"reference.path: {path}: file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            rows = [r for r in reader if r.get("symbol")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read the reference file: {exc}") from None
    if "symbol" not in columns or "prior_close" not in columns:
        raise DataError(f"{path}: needs columns symbol, prior_close[, prior_nav]")
    closes = {r["symbol"]: _num(r["prior_close"]) for r in rows}
    navs = {r["symbol"]: _num(r["prior_nav"]) for r in rows} if "prior_nav" in columns else {}
    return closes, navs


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def alpaca_prior_closes(
    s: AlpacaSettings, creds: Credentials, symbols: tuple[str, ...], prev: date
) -> dict[str, float]:
    """Snapshots' `prevDailyBar.c`, kept only when that bar is from the prior session."""
    import pandas as pd
    from alpaca.data.enums import DataFeed
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.data.requests import StockSnapshotRequest

    client = StockHistoricalDataClient(
        creds.key_id, creds.secret_key, raw_data=True, url_override=s.data_rest_url or None
    )
    feed = DataFeed.SIP if s.feed == "sip" else DataFeed.IEX
    snaps: Any = client.get_stock_snapshot(
        StockSnapshotRequest(symbol_or_symbols=list(symbols), feed=feed)
    )
    out: dict[str, float] = {}
    for sym, snap in dict(snaps).items():
        bar = (snap or {}).get("prevDailyBar") or {}
        try:
            bar_day = pd.Timestamp(bar["t"]).tz_convert(NY).date()
            close = float(bar["c"])
        except (KeyError, TypeError, ValueError):
            continue
        if bar_day != prev:
            log.warning("stale previous daily bar", symbol=sym, bar_day=str(bar_day))
            continue
        out[str(sym)] = close
    return out


def report_excluded(excluded: list[str], source: str) -> None:
    """One clear line per excluded fund (the count is a metric of the app that excluded them)."""
    for sym in excluded:
        log.error(
            "fund excluded from trading: no valid reference (prior close / NAV)",
            fund=sym,
            source=source,
        )
