"""Totals over days: P&L, Sharpe, Sortino, drawdown of the cumulative P&L, hit rate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from inavd.research.metrics import max_drawdown, usd

TRADING_DAYS = 252  # annualisation of daily ratios


def ok_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if "error" not in r]


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Over the days that ran (failed days are counted apart); ratios are None when undefined
    (fewer than two days, or no variation / no losing day)."""
    daily = np.array([r["pnl"]["total"] for r in ok_rows(rows)], dtype=np.float64)
    return {
        "pnl": usd(daily.sum()),
        "sharpe": sharpe(daily),
        "sortino": sortino(daily),
        "max_drawdown": usd(max_drawdown(np.cumsum(daily))),
        "hit_rate": round(float((daily > 0).mean()), 4) if daily.size else None,
        "days": int(daily.size),
        "failed": len(rows) - int(daily.size),
    }


def sharpe(daily: np.ndarray[Any, np.dtype[np.float64]]) -> float | None:
    if daily.size < 2:
        return None
    sd = float(daily.std(ddof=1))
    return _ratio(float(daily.mean()), sd)


def sortino(daily: np.ndarray[Any, np.dtype[np.float64]]) -> float | None:
    """Mean over downside deviation (root mean square of the losses, gains counted as 0)."""
    if daily.size < 2:
        return None
    downside = math.sqrt(float((np.minimum(daily, 0.0) ** 2).mean()))
    return _ratio(float(daily.mean()), downside)


def _ratio(mean: float, scale: float) -> float | None:
    if scale < 1e-9:
        return None
    return round(mean / scale * math.sqrt(TRADING_DAYS), 4)
