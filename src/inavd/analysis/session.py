"""Journal → session data for the report: runs, snapshots, orders, fills, denials, P&L."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from inavd.errors import DataError, JournalError

NY = ZoneInfo("America/New_York")


DEFAULT_ENTRY_BP, DEFAULT_EXIT_BP = 10.0, 2.0
# Spread band: trailing window of snapshots (10 minutes at the 15 s cadence), excluding the
# current one, as a gate comparing a new spread with its recent history would see it.


SPREAD_WINDOW = 40


SPREAD_MIN_PERIODS = 10


SPREAD_K = 3.0


QUERIES: dict[str, str] = {
    "snapshots": "SELECT ts_ns, seq, symbol, inav, mid, premium_bp, spread_bp FROM inav_snapshots"
    " WHERE run_id = ? ORDER BY ts_ns, seq, symbol",
    "orders": "SELECT client_order_id, ts_ns, symbol, side, qty, order_type, time_in_force,"
    " limit_price, strategy, reason, status, filled_qty, avg_fill_price FROM orders"
    " WHERE run_id = ? ORDER BY ts_ns, client_order_id",
    "fills": "SELECT f.ts_ns, f.client_order_id, f.symbol, f.side, f.qty, f.price,"
    " {fee} AS fee_usd, o.strategy FROM fills f LEFT JOIN orders o USING (client_order_id)"
    " WHERE f.run_id = ? ORDER BY f.ts_ns, f.execution_id",
    "positions": "SELECT symbol, qty, avg_price FROM positions WHERE run_id = ?",
    "signals": "SELECT ts_ns, strategy, symbol, target_qty, reason FROM signals"
    " WHERE run_id = ? ORDER BY ts_ns, id",
    "denials": "SELECT ts_ns, gate, reason, symbol, client_order_id, {repeats} AS repeats"
    " FROM denials WHERE run_id = ? ORDER BY ts_ns, id",
}


NUMERIC = (
    "ts_ns",
    "seq",
    "inav",
    "mid",
    "premium_bp",
    "spread_bp",
    "qty",
    "limit_price",
    "filled_qty",
    "avg_fill_price",
    "price",
    "fee_usd",
    "repeats",
    "avg_price",
    "target_qty",
)


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    started_ns: int
    ended_ns: int | None
    config_path: str | None
    feed: str | None
    broker: str | None
    version: str | None
    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Thresholds:
    entry_bp: float
    exit_bp: float
    source: str


@dataclass(frozen=True, slots=True)
class Session:
    run: RunInfo
    snapshots: pd.DataFrame
    orders: pd.DataFrame
    fills: pd.DataFrame
    positions: pd.DataFrame
    signals: pd.DataFrame
    denials: pd.DataFrame


@dataclass(frozen=True, slots=True)
class PnL:
    """Mark-to-market P&L (USD) and position (shares) per symbol on a common ts_ns grid."""

    pnl: pd.DataFrame
    position: pd.DataFrame

    @property
    def total(self) -> pd.Series:
        return self.pnl.sum(axis=1)

    @property
    def traded(self) -> bool:
        """Anything to draw: a position at some point (marks alone make a flat zero line)."""
        return bool(len(self.position)) and bool((self.position != 0.0).any().any())


# ------------------------------------------------------------------------------------ entry point


def load_session(journal_path: Path, run_id: str | None = None) -> Session:
    if not journal_path.is_file():
        raise DataError(f"{journal_path}: no such journal file")
    try:
        # read-only: the report must never migrate, lock or modify a daemon's journal
        uri = f"{journal_path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            run = _pick_run(journal_path, db, run_id)
            # journals before schema v4 have no fee column: their fills read as fee 0
            # older journals lack fills.fee_usd (read as 0) and denials.repeats (one row each)
            cols = {r[1] for r in db.execute("PRAGMA table_info(fills)")}
            fee = "f.fee_usd" if "fee_usd" in cols else "0.0"
            dcols = {r[1] for r in db.execute("PRAGMA table_info(denials)")}
            repeats = "repeats" if "repeats" in dcols else "0"
            frames = {
                name: _read(db, sql.replace("{fee}", fee).replace("{repeats}", repeats), run.run_id)
                for name, sql in QUERIES.items()
            }
    except sqlite3.Error as exc:
        raise JournalError(f"{journal_path}: cannot read journal ({exc})") from None
    frames["snapshots"] = _with_segments(journal_path, run.run_id, frames["snapshots"])
    return Session(run=run, **frames)


def _with_segments(journal_path: Path, run_id: str, table: pd.DataFrame) -> pd.DataFrame:
    """iNAV history from the Parquet segments beside the journal, after any rows older
    versions wrote into the journal's snapshot table."""
    from inavd.execution.snapshots import read_snapshots

    try:
        segments = read_snapshots(journal_path, run_id)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise JournalError(f"{journal_path}: cannot read iNAV history ({exc})") from None
    if not len(segments):
        return table
    segments = segments.loc[:, list(table.columns)]
    return pd.concat([table, segments], ignore_index=True) if len(table) else segments


def _pick_run(path: Path, db: sqlite3.Connection, run_id: str | None) -> RunInfo:
    cols = "run_id, started_ns, ended_ns, config_path, feed, broker, version, summary_json"
    if run_id is None:
        row = db.execute(
            f"SELECT {cols} FROM runs ORDER BY started_ns DESC, run_id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise DataError(f"{path}: journal has no runs")
    else:
        row = db.execute(f"SELECT {cols} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            known = [r[0] for r in db.execute("SELECT run_id FROM runs ORDER BY started_ns")]
            listed = ", ".join(known[-5:]) if known else "none"
            raise DataError(f"{path}: no run {run_id!r} in journal (latest runs: {listed})")
    return RunInfo(
        run_id=str(row[0]),
        started_ns=int(row[1]),
        ended_ns=None if row[2] is None else int(row[2]),
        config_path=row[3],
        feed=row[4],
        broker=row[5],
        version=row[6],
        summary=_parse_summary(row[7]),
    )


def _parse_summary(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}  # a damaged summary must not stop the report; the tables are the record
    return value if isinstance(value, dict) else {}


def _read(db: sqlite3.Connection, sql: str, run_id: str) -> pd.DataFrame:
    cursor = db.execute(sql, (run_id,))
    columns = [d[0] for d in cursor.description]
    frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    for col in columns:
        if col in NUMERIC:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    return frame


# ------------------------------------------------------------------------------------ derivations


def thresholds_of(run: RunInfo) -> Thresholds:
    raw = run.summary.get("thresholds")
    if isinstance(raw, dict):
        entry, exit_ = raw.get("entry_bp"), raw.get("exit_bp")
        if _is_number(entry) and _is_number(exit_):
            return Thresholds(float(entry), float(exit_), "run summary")
    return Thresholds(DEFAULT_ENTRY_BP, DEFAULT_EXIT_BP, "default")


def fund_thresholds(run: RunInfo, symbol: str) -> list[Thresholds]:
    """The premium thresholds of the strategies that trade `symbol` (none: no lines to draw).
    Runs that recorded only one pair (older summaries) draw it on every fund."""
    by_fund = run.summary.get("thresholds_by_fund")
    if not isinstance(by_fund, dict):
        return [thresholds_of(run)]
    out = []
    for raw in by_fund.get(symbol) or []:
        if isinstance(raw, dict) and _is_number(raw.get("entry_bp")):
            exit_ = raw.get("exit_bp")
            exit_bp = float(exit_) if _is_number(exit_) else math.nan
            out.append(Thresholds(float(raw["entry_bp"]), exit_bp, str(raw.get("strategy", ""))))
    return out


def has_data(session: Session, symbol: str) -> bool:
    """A fund with at least one priced snapshot or one fill (others would draw empty axes)."""
    snaps = session.snapshots[session.snapshots["symbol"] == symbol]
    priced = bool(np.isfinite(snaps["mid"].to_numpy(dtype=np.float64)).any())
    return priced or bool((session.fills["symbol"] == symbol).any())


def _is_number(x: object) -> TypeGuard[float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def symbols_of(session: Session) -> list[str]:
    """Funds with priced snapshots first (in journal order), then any symbol only seen in fills;
    funds that never had a quote are left out."""
    seen = list(dict.fromkeys(session.snapshots["symbol"].astype(str)))
    extra = sorted(set(session.fills["symbol"].astype(str)) - set(seen))
    return [s for s in seen if has_data(session, s)] + extra


def local_times(ts_ns: pd.Series | Sequence[float]) -> pd.DatetimeIndex:
    """UTC epoch ns → naive America/New_York wall times (what matplotlib should print)."""
    values = np.asarray(ts_ns, dtype=np.float64).astype(np.int64)
    utc = pd.DatetimeIndex(pd.to_datetime(values, unit="ns", utc=True))
    return utc.tz_convert(NY).tz_localize(None)


def spread_band(spread_bp: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Trailing rolling mean and standard deviation of the spread (current snapshot excluded)."""
    past = spread_bp.shift(1).rolling(SPREAD_WINDOW, min_periods=SPREAD_MIN_PERIODS)
    return past.mean(), past.std()


def compute_pnl(session: Session) -> PnL:
    """Mark-to-market session P&L from fills, marked at snapshot mids.

    A position held at the start (final position minus the run's fills) is valued from the
    session's first mark, so the figure is the run's P&L, not the position's lifetime P&L.
    """
    pnl_cols: dict[str, pd.Series] = {}
    pos_cols: dict[str, pd.Series] = {}
    start_qty: dict[str, float] = {}
    for symbol in symbols_of(session):
        pnl, pos, start_qty[symbol] = _symbol_pnl(session, symbol)
        if not pnl.empty:
            pnl_cols[symbol], pos_cols[symbol] = pnl, pos
    if not pnl_cols:
        return PnL(pd.DataFrame(), pd.DataFrame())
    pnl_frame = pd.concat(pnl_cols, axis=1).sort_index().ffill().fillna(0.0)
    pos_frame = pd.concat(pos_cols, axis=1).sort_index().ffill()
    return PnL(pnl_frame, pos_frame.fillna(start_qty))  # before a symbol's first mark or fill


def _symbol_pnl(session: Session, symbol: str) -> tuple[pd.Series, pd.Series, float]:
    snaps = session.snapshots[session.snapshots["symbol"] == symbol]
    marks = snaps.dropna(subset=["mid"]).groupby("ts_ns")["mid"].last()
    fills = session.fills[session.fills["symbol"] == symbol]
    fill_ts = fills["ts_ns"].to_numpy(dtype=np.float64)
    signed = np.where(fills["side"].str.lower() == "sell", -1.0, 1.0) * fills["qty"].to_numpy()
    start_qty = _final_qty(session, symbol, signed) - float(signed.sum())
    grid = np.union1d(marks.index.to_numpy(dtype=np.float64), fill_ts)
    if grid.size == 0:
        return pd.Series(dtype=np.float64), pd.Series(dtype=np.float64), start_qty
    # at a fill time without a snapshot the last mid stands; before any mid, the fill price
    fill_marks = pd.Series(fills["price"].to_numpy(), index=fill_ts).groupby(level=0).last()
    mark = marks.reindex(grid).ffill().fillna(fill_marks.reindex(grid).ffill()).bfill()
    done = np.searchsorted(fill_ts, grid, side="right")  # fills at or before each grid time
    position = start_qty + np.concatenate(([0.0], np.cumsum(signed)))[done]
    cash = np.concatenate(([0.0], np.cumsum(-signed * fills["price"].to_numpy())))[done]
    pnl = cash + position * mark.to_numpy() - start_qty * float(mark.iloc[0])
    return pd.Series(pnl, index=grid), pd.Series(position, index=grid), start_qty


def _final_qty(session: Session, symbol: str, signed_fills: npt.NDArray[np.float64]) -> float:
    rows = session.positions[session.positions["symbol"] == symbol]
    if rows.empty:
        return float(signed_fills.sum())  # no position record: assume it started flat
    return float(rows["qty"].iloc[0])


# ------------------------------------------------------------------------------------------ plots


def premium_bp(snaps: pd.DataFrame) -> pd.Series:
    """The journaled premium, or (mid / iNAV − 1)·10⁴ where it is missing."""
    computed = (snaps["mid"] / snaps["inav"] - 1.0) * 1e4
    return snaps["premium_bp"].fillna(computed)


def _value_at(
    snaps: pd.DataFrame, column: str, ts_ns: pd.Series, values: pd.Series | None = None
) -> pd.Series:
    """Value of the latest snapshot at or before each time (the first one before any)."""
    source = (values if values is not None else snaps[column]).to_numpy(dtype=np.float64)
    idx = np.searchsorted(snaps["ts_ns"].to_numpy(), ts_ns.to_numpy(), side="right") - 1
    return pd.Series(source[np.clip(idx, 0, len(source) - 1)], index=ts_ns.index)
