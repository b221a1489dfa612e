"""One day's compact result, read from the run summary and the day's private journal.

P&L is marked to market at the journaled mids (`inavd.analysis.session.compute_pnl`, the same
figures the session report draws). When the run summary carries its own `pnl` block, its keys
win: the daemon's accounting is the reference and this module only fills what it lacks.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inavd.analysis.session import Session, compute_pnl, load_session, premium_bp

# Premium histogram: fixed 2.5 bp bins over ±50 bp (outliers land in the end bins), so days
# and settings add up bin by bin.
PREMIUM_EDGES = np.linspace(-50.0, 50.0, 41)
PNL_KEYS = ("realized", "unrealized", "fees", "total")


def usd(x: float) -> float:
    """Cents, and never -0.0 (rows are compared byte for byte)."""
    r = round(float(x), 2)
    return 0.0 if r == 0 or not math.isfinite(r) else r


def day_row(summary: dict[str, Any], journal: Path) -> dict[str, Any]:
    session = load_session(journal, str(summary["run_id"]))
    curve = compute_pnl(session).total
    marked = float(curve.iloc[-1]) if len(curve) else 0.0
    fills = session.fills
    return {
        "orders": int(summary["orders"]),
        "fills": int(summary["fills"]),
        "pnl": day_pnl(summary, session, marked),
        "turnover": usd(float((fills["qty"] * fills["price"]).abs().sum())),
        "max_drawdown": usd(max_drawdown(curve.to_numpy(dtype=np.float64))),
        "premium_hist": premium_histogram(session),
    }


def day_pnl(summary: dict[str, Any], session: Session, marked: float) -> dict[str, Any]:
    """realized / unrealized / fees / total / by_strategy in USD, total after fees."""
    own = summary.get("pnl")
    own = own if isinstance(own, dict) else {}
    realized = float(own.get("realized", summary.get("realized_pnl", 0.0)))
    fees = float(own.get("fees", 0.0))
    out = {
        "realized": realized,
        "unrealized": float(own.get("unrealized", marked - realized)),
        "fees": fees,
        "total": float(own.get("total", marked - fees)),
    }
    by = own.get("by_strategy")
    by_strategy = by if isinstance(by, dict) else strategy_pnl(session)
    return {
        **{k: usd(out[k]) for k in PNL_KEYS},
        "by_strategy": {str(k): usd(_total_of(v)) for k, v in sorted(by_strategy.items())},
    }


def _total_of(value: Any) -> float:
    """A strategy's P&L is either a number or a block with a `total`."""
    return float(value["total"]) if isinstance(value, dict) else float(value)


def strategy_pnl(session: Session) -> dict[str, float]:
    """Each strategy's fills marked at the last mid of their symbol (cash + position · mark)."""
    fills = session.fills
    if fills.empty:
        return {}
    owner = session.orders.set_index("client_order_id")["strategy"]
    strategy = fills["client_order_id"].map(owner).fillna("unattributed").astype(str)
    signed = np.where(fills["side"].str.lower() == "sell", -1.0, 1.0) * fills["qty"].to_numpy()
    mark = fills["symbol"].map(_last_marks(session)).to_numpy(dtype=np.float64)
    value = signed * (mark - fills["price"].to_numpy(dtype=np.float64))
    per = pd.Series(value, index=strategy.to_numpy()).groupby(level=0).sum()
    return {str(k): float(v) for k, v in per.items()}


def _last_marks(session: Session) -> pd.Series:
    """Last journaled mid per symbol; a symbol without snapshots (a benchmark traded directly)
    is marked at its last fill, as `compute_pnl` does."""
    snaps = session.snapshots.dropna(subset=["mid"])
    by_fill = session.fills.groupby("symbol")["price"].last()
    return snaps.groupby("symbol")["mid"].last().combine_first(by_fill)


def max_drawdown(equity: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """Largest fall from a running peak, starting from a flat 0 (USD, ≥ 0)."""
    if not equity.size:
        return 0.0
    path = np.concatenate(([0.0], equity))
    return float((np.maximum.accumulate(path) - path).max())


def premium_histogram(session: Session) -> list[int]:
    values = premium_bp(session.snapshots).to_numpy(dtype=np.float64)
    values = np.clip(values[np.isfinite(values)], PREMIUM_EDGES[0], PREMIUM_EDGES[-1])
    counts, _ = np.histogram(values, bins=PREMIUM_EDGES)
    return [int(c) for c in counts]
