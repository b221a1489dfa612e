"""One day's compact result, read from the run summary and the day's private journal.

P&L after costs, per strategy and turnover are the daemon's own (`inavd.pnl`, the summary's
`pnl` block). The journal adds what the summary does not carry: the intraday drawdown of the
marked-to-market P&L (`inavd.analysis.session.compute_pnl`, the curve the session report draws)
and the premiums seen.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

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
    return {
        "orders": int(summary["orders"]),
        "fills": int(summary["fills"]),
        "pnl": day_pnl(summary["pnl"]),
        "turnover": usd(float(summary["turnover"])),
        "max_drawdown": usd(max_drawdown(curve.to_numpy(dtype=np.float64))),
        "premium_hist": premium_histogram(session),
    }


def day_pnl(pnl: dict[str, Any]) -> dict[str, Any]:
    """The run summary's P&L after costs, each strategy as its total."""
    return {
        **{k: usd(float(pnl[k])) for k in PNL_KEYS},
        "by_strategy": {str(k): usd(_total_of(v)) for k, v in sorted(pnl["by_strategy"].items())},
    }


def _total_of(value: Any) -> float:
    """A strategy's P&L is either a number or a block with a `total`."""
    return float(value["total"]) if isinstance(value, dict) else float(value)


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
