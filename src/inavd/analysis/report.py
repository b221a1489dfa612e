"""Session report: one HTML page with PNG plots of a replayed or live run, read from the journal.

Per fund: iNAV vs mid with orders and fills, premium/discount against the signal thresholds, and the
spread with its rolling 3σ band and the orders the risk gates denied. For the session: P&L and
position over time and a table of summary figures. Times are shown in America/New_York.

The journal is opened read-only; a running daemon may keep writing to it.
"""

from __future__ import annotations

import html
import json
import math
import re
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from inavd.analysis import date_axis, pyplot
from inavd.errors import DataError, JournalError

NY = ZoneInfo("America/New_York")
DEFAULT_ENTRY_BP, DEFAULT_EXIT_BP = 10.0, 2.0
# Spread band: trailing window of snapshots (10 minutes at the 15 s cadence), excluding the
# current one, as a gate comparing a new spread with its recent history would see it.
SPREAD_WINDOW = 40
SPREAD_MIN_PERIODS = 10
SPREAD_K = 3.0
MAX_TABLE_ROWS = 200
REPORT_FILE = "index.html"
PNL_FILE = "pnl_position.png"

QUERIES: dict[str, str] = {
    "snapshots": "SELECT ts_ns, seq, symbol, inav, mid, premium_bp, spread_bp FROM inav_snapshots"
    " WHERE run_id = ? ORDER BY ts_ns, seq, symbol",
    "orders": "SELECT client_order_id, ts_ns, symbol, side, qty, order_type, time_in_force,"
    " limit_price, strategy, reason, status, filled_qty, avg_fill_price FROM orders"
    " WHERE run_id = ? ORDER BY ts_ns, client_order_id",
    "fills": "SELECT ts_ns, client_order_id, symbol, side, qty, price FROM fills"
    " WHERE run_id = ? ORDER BY ts_ns, execution_id",
    "positions": "SELECT symbol, qty, avg_price FROM positions WHERE run_id = ?",
    "signals": "SELECT ts_ns, strategy, symbol, target_qty, reason FROM signals"
    " WHERE run_id = ? ORDER BY ts_ns, id",
    "denials": "SELECT ts_ns, gate, reason, symbol, client_order_id FROM denials"
    " WHERE run_id = ? ORDER BY ts_ns, id",
}
NUMERIC = ("ts_ns", "seq", "inav", "mid", "premium_bp", "spread_bp", "qty", "limit_price",
           "filled_qty", "avg_fill_price", "price", "avg_price", "target_qty")


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
def write_report(journal_path: Path, out_dir: Path, run_id: str | None = None) -> Path:
    """Write `index.html` and its PNGs into `out_dir` for one run (default: the latest)."""
    session = load_session(journal_path, run_id)
    try:
        return _write(session, out_dir)
    except OSError as exc:  # an unwritable or misnamed output directory is a user mistake
        raise DataError(f"{out_dir}: cannot write the report ({exc.strerror or exc})") from None


def _write(session: Session, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    thresholds = thresholds_of(session.run)
    pnl = compute_pnl(session)
    images: list[tuple[str, str]] = []
    if pnl.traded:
        images.append((plot_pnl(pnl, out_dir / PNL_FILE), "P&L and position"))
    for symbol in symbols_of(session):
        png = out_dir / f"fund_{_safe_name(symbol)}.png"
        if plot_fund(session, symbol, thresholds, png) is not None:
            images.append((png.name, symbol))
    page = render_html(session, thresholds, pnl, images)
    target = out_dir / REPORT_FILE
    target.write_text(page, encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------- loading
def load_session(journal_path: Path, run_id: str | None = None) -> Session:
    if not journal_path.is_file():
        raise DataError(f"{journal_path}: no such journal file")
    try:
        # read-only: the report must never migrate, lock or modify a daemon's journal
        uri = f"{journal_path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            run = _pick_run(journal_path, db, run_id)
            frames = {name: _read(db, sql, run.run_id) for name, sql in QUERIES.items()}
    except sqlite3.Error as exc:
        raise JournalError(f"{journal_path}: cannot read journal ({exc})") from None
    return Session(run=run, **frames)


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


def _is_number(x: object) -> TypeGuard[float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def symbols_of(session: Session) -> list[str]:
    """Funds with snapshots first (in journal order), then any symbol only seen in fills."""
    seen = list(dict.fromkeys(session.snapshots["symbol"].astype(str)))
    extra = sorted(set(session.fills["symbol"].astype(str)) - set(seen))
    return seen + extra


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
def plot_fund(session: Session, symbol: str, th: Thresholds, png: Path) -> str | None:
    """Three panels for one fund; None when the fund has no snapshots to draw."""
    snaps = session.snapshots[session.snapshots["symbol"] == symbol].reset_index(drop=True)
    if snaps.empty:
        return None
    plt = pyplot()
    fig, (price, prem, spread) = plt.subplots(
        3, 1, figsize=(11, 9), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]}
    )
    t = local_times(snaps["ts_ns"])
    _draw_price(price, session, symbol, snaps, t)
    _draw_premium(prem, session, symbol, snaps, t, th)
    _draw_spread(spread, session, symbol, snaps, t)
    price.set_title(f"{symbol}: run {session.run.run_id}")
    spread.set_xlabel("time (America/New_York)")
    for ax in (price, prem, spread):
        date_axis(ax)
    fig.tight_layout()
    try:
        fig.savefig(png, dpi=100)
    finally:
        plt.close(fig)  # pyplot keeps every open figure alive otherwise
    return png.name


def _draw_price(
    ax: Any, session: Session, symbol: str, snaps: pd.DataFrame, t: pd.DatetimeIndex
) -> None:
    ax.plot(t, snaps["mid"], lw=1.0, color="tab:blue", label="mid")
    ax.plot(t, snaps["inav"], lw=1.0, color="tab:orange", label="iNAV")
    orders = session.orders[session.orders["symbol"] == symbol]
    if not orders.empty:
        # limit orders at their limit, market orders at the mid when they were sent
        at = orders["limit_price"].fillna(_value_at(snaps, "mid", orders["ts_ns"]))
        for side, marker, color in (("buy", "^", "tab:green"), ("sell", "v", "tab:red")):
            mask = (orders["side"].str.lower() == side).to_numpy()
            if mask.any():
                ax.scatter(local_times(orders["ts_ns"][mask]), at[mask], marker=marker, s=70,
                           facecolors="none", edgecolors=color, label=f"{side} order")
    fills = session.fills[session.fills["symbol"] == symbol]
    for side, marker, color in (("buy", "^", "tab:green"), ("sell", "v", "tab:red")):
        mask = (fills["side"].str.lower() == side).to_numpy()
        if mask.any():
            ax.scatter(local_times(fills["ts_ns"][mask]), fills["price"][mask], marker=marker,
                       s=40, color=color, zorder=3, label=f"{side} fill")
    ax.set_ylabel("price (USD)")
    ax.legend(loc="best", fontsize=8, ncol=3)


def _draw_premium(
    ax: Any, session: Session, symbol: str, snaps: pd.DataFrame, t: pd.DatetimeIndex,
    th: Thresholds,
) -> None:
    premium = premium_bp(snaps)
    ax.plot(t, premium, lw=0.9, color="tab:purple", label="premium (+) / discount (−)")
    ax.axhline(0.0, color="black", lw=0.6)
    for level, style, name in ((th.entry_bp, "--", "entry"), (th.exit_bp, ":", "exit")):
        ax.axhline(level, color="tab:red", ls=style, lw=0.9, label=f"±{name} {level:g} bp")
        ax.axhline(-level, color="tab:red", ls=style, lw=0.9)
    sig = session.signals[session.signals["symbol"] == symbol]
    if not sig.empty:
        ax.scatter(local_times(sig["ts_ns"]), _value_at(snaps, "premium", sig["ts_ns"], premium),
                   marker="o", s=18, color="black", zorder=3, label=f"signal ({len(sig)})")
    ax.set_ylabel("premium (bp)")
    ax.legend(loc="best", fontsize=8, ncol=2)


def _draw_spread(
    ax: Any, session: Session, symbol: str, snaps: pd.DataFrame, t: pd.DatetimeIndex
) -> None:
    spread = snaps["spread_bp"]
    mean, std = spread_band(spread)
    ax.plot(t, spread, lw=0.8, color="tab:gray", label="spread")
    ax.plot(t, mean, lw=0.9, color="tab:blue", label=f"rolling mean ({SPREAD_WINDOW} snapshots)")
    ax.fill_between(t, (mean - SPREAD_K * std).clip(lower=0.0), mean + SPREAD_K * std,
                    color="tab:blue", alpha=0.15, label=f"mean ± {SPREAD_K:g}σ")
    den = session.denials
    den = den[(den["symbol"] == symbol) | den["symbol"].isna()]
    for gate, group in den.groupby("gate", sort=True):
        ax.scatter(local_times(group["ts_ns"]), _value_at(snaps, "spread_bp", group["ts_ns"]),
                   marker="x", s=45, zorder=3, label=f"denied: {gate} ({len(group)})")
    ax.set_ylabel("spread (bp)")
    ax.legend(loc="best", fontsize=8, ncol=2)


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


def plot_pnl(pnl: PnL, png: Path) -> str:
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6.5), sharex=True)
    t = local_times(pnl.pnl.index.to_series())
    symbols = [str(c) for c in pnl.pnl.columns]
    top.plot(t, pnl.total, lw=1.8, color="black", label="total")
    for symbol, color in zip(symbols, _colors(plt, len(symbols)), strict=True):
        top.plot(t, pnl.pnl[symbol], lw=0.9, color=color, label=symbol)
        bottom.step(t, pnl.position[symbol], where="post", lw=1.0, color=color, label=symbol)
    top.axhline(0.0, color="gray", lw=0.6)
    top.set_ylabel("P&L (USD, marked at mid)")
    top.set_title("Session P&L and position")
    bottom.set_ylabel("position (shares)")
    bottom.set_xlabel("time (America/New_York)")
    for ax in (top, bottom):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        date_axis(ax)
    fig.tight_layout()
    try:
        fig.savefig(png, dpi=100)
    finally:
        plt.close(fig)  # pyplot keeps every open figure alive otherwise
    return png.name


def _colors(plt: Any, n: int) -> list[Any]:
    """Distinct colours: tab10 repeats after ten lines, so use tab20's dark shades, then light."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    cmap = plt.get_cmap("tab20")
    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return [cmap(order[i % 20]) for i in range(n)]


# ------------------------------------------------------------------------------------------- html
def summary_rows(session: Session, th: Thresholds, pnl: PnL) -> list[tuple[str, str]]:
    run, fills = session.run, session.fills
    notional = float((fills["qty"] * fills["price"]).sum())
    rows = [
        ("run", run.run_id),
        ("session (market data)", session_span(session)),
        ("run started", _fmt_ns(run.started_ns)),
        ("run ended", _fmt_ns(run.ended_ns) if run.ended_ns is not None else "not recorded"),
        ("feed", run.feed or "—"),
        ("broker", run.broker or "—"),
        ("inavd version", run.version or "—"),
        ("signal thresholds", f"entry ±{th.entry_bp:g} bp, exit ±{th.exit_bp:g} bp ({th.source})"),
        ("funds", str(len(symbols_of(session)))),
        ("iNAV snapshots", str(session.snapshots["ts_ns"].nunique())),
        ("signals", str(len(session.signals))),
        ("orders", f"{len(session.orders)} ({_counts(session.orders['status'])})"),
        ("fills", f"{len(fills)}: {fills['qty'].sum():,.0f} shares, ${notional:,.2f}"),
        ("denials", f"{len(session.denials)} ({_counts(session.denials['gate'])})"),
        ("session P&L (mark to mid)", _usd(float(pnl.total.iloc[-1])) if len(pnl.pnl) else "—"),
        ("final positions", _positions_text(pnl)),
    ]
    realized = run.summary.get("realized_pnl")
    if _is_number(realized):
        rows.append(("realized P&L (run summary)", _usd(float(realized))))
    return rows


def fund_rows(session: Session, th: Thresholds, pnl: PnL) -> list[list[str]]:
    out = []
    for symbol in symbols_of(session):
        snaps = session.snapshots[session.snapshots["symbol"] == symbol]
        prem = premium_bp(snaps).dropna()
        beyond = float((prem.abs() >= th.entry_bp).mean() * 100) if len(prem) else math.nan
        fills = session.fills[session.fills["symbol"] == symbol]
        has_pnl = symbol in pnl.pnl.columns
        out.append([
            symbol,
            str(len(snaps)),
            _num(prem.mean()), _num(prem.std()), _num(prem.min()), _num(prem.max()),
            _num(beyond, 1),
            _num(snaps["spread_bp"].median()),
            str(len(fills)),
            f"{pnl.position[symbol].iloc[-1]:,.0f}" if has_pnl else "0",
            _usd(float(pnl.pnl[symbol].iloc[-1])) if has_pnl else "—",
        ])
    return out


FUND_HEADER = ["fund", "snapshots", "premium mean bp", "std bp", "min bp", "max bp",
               "% time |premium| ≥ entry", "median spread bp", "fills", "final position", "P&L"]
ORDER_HEADER = ["time (ET)", "symbol", "side", "qty", "type", "tif", "limit", "status",
                "filled", "avg price", "strategy", "reason"]
DENIAL_HEADER = ["time (ET)", "gate", "symbol", "reason", "client order id"]


def render_html(
    session: Session, th: Thresholds, pnl: PnL, images: list[tuple[str, str]]
) -> str:
    run = session.run
    parts = [
        f"<h1>inavd session report: run {_e(run.run_id)}</h1>",
        f"<p class='muted'>{_e(session_span(session))} · times in America/New_York</p>",
        "<h2>Summary</h2>", _kv_table(summary_rows(session, th, pnl)),
        "<h2>Funds</h2>", _table(FUND_HEADER, fund_rows(session, th, pnl)),
    ]
    if not images:
        parts.append("<p>No snapshots or fills in this run: nothing to plot.</p>")
    for name, caption in images:
        parts.append(f"<h2>{_e(caption)}</h2><img src='{_e(name)}' alt='{_e(caption)}'>")
    parts += ["<h2>Orders</h2>", _capped(ORDER_HEADER, _order_rows(session.orders))]
    parts += ["<h2>Denials</h2>", _capped(DENIAL_HEADER, _denial_rows(session.denials))]
    extra = _summary_extras(run.summary)
    if extra:
        parts += ["<h2>Daemon run summary</h2>", _kv_table(extra)]
    parts.append(f"<p class='muted'>{_e(NOTES)}</p>")
    return PAGE.format(title=_e(f"inavd report {run.run_id}"), body="\n".join(parts))


NOTES = (
    "P&L is marked to the journaled mid (no fees); a position held at the start is valued from "
    "the session's first mark; symbols without snapshots are marked at their own fill prices. "
    f"Spread band: trailing mean ± {SPREAD_K:g}σ over the previous "
    f"{SPREAD_WINDOW} snapshots, an approximation of the daemon's quote-level liquidity gate."
)

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1150px; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f0f0f0; }} td.k, th.k {{ text-align: left; }}
img {{ max-width: 100%; border: 1px solid #ddd; }} .muted {{ color: #666; font-size: 0.9em; }}
</style></head>
<body>
{body}
</body></html>
"""


def session_span(session: Session) -> str:
    """First and last market-data time of the run (snapshots and fills), which for a replay
    differ from the wall-clock start and end of the run."""
    times = pd.concat([session.snapshots["ts_ns"], session.fills["ts_ns"]]).dropna()
    if times.empty:
        return "no snapshots or fills"
    return f"{_fmt_ns(times.min())} … {_fmt_ns(times.max())}"


def _order_rows(orders: pd.DataFrame) -> list[list[str]]:
    return [
        [_fmt_ns(o["ts_ns"]), *_texts(o, "symbol", "side"), _num(o["qty"], 0),
         *_texts(o, "order_type", "time_in_force"), _num(o["limit_price"], 4), _text(o["status"]),
         _num(o["filled_qty"], 0), _num(o["avg_fill_price"], 4), *_texts(o, "strategy", "reason")]
        for o in orders.to_dict("records")
    ]


def _denial_rows(denials: pd.DataFrame) -> list[list[str]]:
    return [
        [_fmt_ns(d["ts_ns"]), *_texts(d, "gate", "symbol", "reason", "client_order_id")]
        for d in denials.to_dict("records")
    ]


def _texts(record: dict[Any, Any], *keys: str) -> list[str]:
    return [_text(record[k]) for k in keys]


def _text(x: object) -> str:
    """A journal text cell; NULL (None, or NaN after pandas) prints as empty."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return str(x)


def _summary_extras(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Scalars and small mappings from the daemon's own summary, shown as it wrote them."""
    rows = []
    for key, value in summary.items():
        if key == "thresholds":
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        rows.append((str(key), text if len(text) <= 300 else text[:297] + "..."))
    return rows


def _kv_table(rows: list[tuple[str, str]]) -> str:
    cells = "<tr><th class='k'>{}</th><td class='k'>{}</td></tr>"
    body = "".join(cells.format(_e(k), _e(v)) for k, v in rows)
    return f"<table>{body}</table>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _capped(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>None.</p>"
    note = ""
    if len(rows) > MAX_TABLE_ROWS:
        note = f"<p class='muted'>First {MAX_TABLE_ROWS} of {len(rows)} rows.</p>"
    return _table(header, rows[:MAX_TABLE_ROWS]) + note


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _fmt_ns(ts_ns: float) -> str:
    return datetime.fromtimestamp(int(ts_ns) / 1e9, tz=NY).strftime("%Y-%m-%d %H:%M:%S %Z")


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(float(x)):
        return "—"
    return f"{x:,.{digits}f}"


def _usd(x: float) -> str:
    return f"{'-' if x < 0 else ''}${abs(x):,.2f}"


def _counts(values: pd.Series) -> str:
    counts = values.astype(str).value_counts()
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _positions_text(pnl: PnL) -> str:
    if pnl.position.empty:
        return "flat"
    last = pnl.position.iloc[-1]
    held = [f"{s} {q:,.0f}" for s, q in last.items() if q != 0]
    return ", ".join(held) or "flat"


def _safe_name(symbol: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", symbol) or "_"
