"""Session report: one self-contained HTML page (plots embedded) of a run, read from the journal.

Per fund with data: iNAV vs mid with orders and fills, premium/discount against the thresholds of
the strategies that trade that fund, and the spread with its rolling 3σ band and the orders the
risk gates denied. For the session: the equity curve (P&L after fees), P&L and position over time,
the trade list and a table of summary figures. Times are shown in America/New_York.

The journal is opened read-only; a running daemon may keep writing to it.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inavd.analysis.plots import plot_equity, plot_fund, plot_pnl
from inavd.analysis.session import (
    NY,
    SPREAD_K,
    SPREAD_WINDOW,
    PnL,
    Session,
    Thresholds,
    _is_number,
    compute_pnl,
    fund_thresholds,
    load_session,
    premium_bp,
    symbols_of,
    thresholds_of,
)
from inavd.errors import DataError

MAX_TABLE_ROWS = 200
MAX_TRADE_ROWS = 2000


REPORT_FILE = "index.html"


def write_report(journal_path: Path, out_dir: Path, run_id: str | None = None) -> Path:
    """Write `index.html` (images embedded) into `out_dir` for one run (default: the latest)."""
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
        fees = equity_fees(session, pnl)
        images.append((plot_equity(pnl.total - fees, pnl.total), "Equity curve"))
        images.append((plot_pnl(pnl), "P&L and position"))
    for symbol in symbols_of(session):
        uri = plot_fund(session, symbol, fund_thresholds(session.run, symbol))
        if uri is not None:
            images.append((uri, symbol))
    page = render_html(session, thresholds, pnl, images)
    target = out_dir / REPORT_FILE
    target.write_text(page, encoding="utf-8")
    return target


def equity_fees(session: Session, pnl: PnL) -> pd.Series:
    """Fees paid up to each time of the P&L grid."""
    fills = session.fills.sort_values("ts_ns", kind="stable")
    paid = np.concatenate(([0.0], np.cumsum(fills["fee_usd"].fillna(0.0).to_numpy())))
    grid = pnl.pnl.index.to_numpy(dtype=np.float64)
    done = np.searchsorted(fills["ts_ns"].to_numpy(dtype=np.float64), grid, side="right")
    return pd.Series(paid[done], index=pnl.pnl.index)


# ---------------------------------------------------------------------------------------- loading


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
        ("signal thresholds", _thresholds_text(session, th)),
        ("funds", str(len(symbols_of(session)))),
        ("iNAV snapshots", str(session.snapshots["ts_ns"].nunique())),
        ("signals", str(len(session.signals))),
        ("orders", f"{len(session.orders)} ({_counts(session.orders['status'])})"),
        ("fills", f"{len(fills)}: {fills['qty'].sum():,.0f} shares, ${notional:,.2f}"),
        ("denials", _denial_counts(session.denials)),
        ("session P&L (mark to mid)", _usd(float(pnl.total.iloc[-1])) if len(pnl.pnl) else "—"),
        ("fees", _usd(float(fills["fee_usd"].sum()))),
        ("final positions", _positions_text(pnl)),
    ]
    realized = run.summary.get("realized_pnl")
    if _is_number(realized):
        rows.append(("realized P&L (run summary)", _usd(float(realized))))
    total = (run.summary.get("pnl") or {}).get("total")
    if _is_number(total):
        rows.append(("P&L after costs (run summary)", _usd(float(total))))
    return rows


def _denial_counts(denials: pd.DataFrame) -> str:
    """Every denial, also the repeats the journal keeps as a count on one row."""
    n = 1 + denials["repeats"].fillna(0.0)
    by_gate = n.groupby(denials["gate"].astype(str)).sum()
    text = ", ".join(f"{g} {int(k)}" for g, k in sorted(by_gate.items())) or "none"
    return f"{int(n.sum())} ({text})"


def _thresholds_text(session: Session, th: Thresholds) -> str:
    if "thresholds_by_fund" not in session.run.summary:
        return f"entry ±{th.entry_bp:g} bp, exit ±{th.exit_bp:g} bp ({th.source})"
    parts = []
    for symbol in symbols_of(session):
        for t in fund_thresholds(session.run, symbol):
            exit_ = f"/±{t.exit_bp:g}" if math.isfinite(t.exit_bp) else ""
            parts.append(f"{symbol} {t.source} ±{t.entry_bp:g}{exit_} bp")
    return "; ".join(parts) or "no fund is traded on its premium"


def fund_rows(session: Session, th: Thresholds, pnl: PnL) -> list[list[str]]:
    out = []
    for symbol in symbols_of(session):
        snaps = session.snapshots[session.snapshots["symbol"] == symbol]
        prem = premium_bp(snaps).dropna()
        own = fund_thresholds(session.run, symbol)
        entry = own[0].entry_bp if own else math.nan
        beyond = float((prem.abs() >= entry).mean() * 100) if len(prem) and own else math.nan
        fills = session.fills[session.fills["symbol"] == symbol]
        has_pnl = symbol in pnl.pnl.columns
        out.append(
            [
                symbol,
                str(len(snaps)),
                _num(prem.mean()),
                _num(prem.std()),
                _num(prem.min()),
                _num(prem.max()),
                _num(beyond, 1),
                _num(snaps["spread_bp"].median()),
                str(len(fills)),
                f"{pnl.position[symbol].iloc[-1]:,.0f}" if has_pnl else "0",
                _usd(float(pnl.pnl[symbol].iloc[-1])) if has_pnl else "—",
            ]
        )
    return out


FUND_HEADER = [
    "fund",
    "snapshots",
    "premium mean bp",
    "std bp",
    "min bp",
    "max bp",
    "% time |premium| ≥ own entry",
    "median spread bp",
    "fills",
    "final position",
    "P&L",
]


ORDER_HEADER = [
    "time (ET)",
    "symbol",
    "side",
    "qty",
    "type",
    "tif",
    "limit",
    "status",
    "filled",
    "avg price",
    "strategy",
    "reason",
]


DENIAL_HEADER = ["time (ET)", "gate", "symbol", "reason", "client order id"]


TRADE_HEADER = ["time (ET)", "symbol", "side", "qty", "price", "notional", "fee", "strategy"]


def render_html(session: Session, th: Thresholds, pnl: PnL, images: list[tuple[str, str]]) -> str:
    run = session.run
    parts = [
        f"<h1>inavd session report: run {_e(run.run_id)}</h1>",
        f"<p class='muted'>{_e(session_span(session))} · times in America/New_York</p>",
        "<h2>Summary</h2>",
        _kv_table(summary_rows(session, th, pnl)),
        "<h2>Funds</h2>",
        _table(FUND_HEADER, fund_rows(session, th, pnl)),
    ]
    if not images:
        parts.append("<p>No snapshots or fills in this run: nothing to plot.</p>")
    for uri, caption in images:
        parts.append(f"<h2>{_e(caption)}</h2><img src='{uri}' alt='{_e(caption)}'>")
    trades = _capped(TRADE_HEADER, _trade_rows(session.fills), MAX_TRADE_ROWS)
    parts += ["<h2>Trades</h2>", trades]
    parts += ["<h2>Orders</h2>", _capped(ORDER_HEADER, _order_rows(session.orders))]
    parts += ["<h2>Denials</h2>", _capped(DENIAL_HEADER, _denial_rows(session.denials))]
    extra = _summary_extras(run.summary)
    if extra:
        parts += ["<h2>Daemon run summary</h2>", _kv_table(extra)]
    parts.append(f"<p class='muted'>{_e(NOTES)}</p>")
    return PAGE.format(title=_e(f"inavd report {run.run_id}"), body="\n".join(parts))


NOTES = (
    "P&L is marked to the journaled mid; the equity curve subtracts the fees the fills carried "
    "(borrow over the close is in the run summary only); a position held at the start is valued "
    "from the session's first mark; symbols without snapshots are marked at their own fill prices. "
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
        [
            _fmt_ns(o["ts_ns"]),
            *_texts(o, "symbol", "side"),
            _num(o["qty"], 0),
            *_texts(o, "order_type", "time_in_force"),
            _num(o["limit_price"], 4),
            _text(o["status"]),
            _num(o["filled_qty"], 0),
            _num(o["avg_fill_price"], 4),
            *_texts(o, "strategy", "reason"),
        ]
        for o in orders.to_dict("records")
    ]


def _trade_rows(fills: pd.DataFrame) -> list[list[str]]:
    return [
        [
            _fmt_ns(f["ts_ns"]),
            *_texts(f, "symbol", "side"),
            _num(f["qty"], 0),
            _num(f["price"], 4),
            _num(f["qty"] * f["price"]),
            _num(f["fee_usd"]),
            _text(f["strategy"]),
        ]
        for f in fills.to_dict("records")
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


def _capped(header: list[str], rows: list[list[str]], cap: int = MAX_TABLE_ROWS) -> str:
    if not rows:
        return "<p>None.</p>"
    note = ""
    if len(rows) > cap:
        note = f"<p class='muted'>First {cap} of {len(rows)} rows.</p>"
    return _table(header, rows[:cap]) + note


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
