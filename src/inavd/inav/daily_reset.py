"""Daily-reset math (DOMAIN.md §1–§2). Scalar and vectorised forms of the same formulas."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inavd.domain.quotes import F64

DAYS_PER_YEAR = 365.0  # fund accrual convention: calendar days / 365


def carry_rate(
    leverage: float, cash_rate: float, dividend_yield: float, expense_ratio: float
) -> float:
    """Annual carry of a daily-reset fund: (1 − L)·r + L·q − ER."""
    return (1.0 - leverage) * cash_rate + leverage * dividend_yield - expense_ratio


def nav_step(
    nav: float,
    leverage: float,
    index_return: float,
    carry: float = 0.0,
    accrual_years: float = 0.0,
) -> float:
    """One day of the NAV recursion: NAV_t = NAV_{t−1}·[1 + L·R_t + carry·δ]."""
    return nav * (1.0 + leverage * index_return + carry * accrual_years)


def nav_path(start: float, leverage: float, index_levels: Sequence[float]) -> list[float]:
    """Fund values after each day for a path of index closes (zero carry), starting at `start`."""
    levels = np.asarray(index_levels, dtype=np.float64)
    returns = levels[1:] / levels[:-1] - 1.0
    values = start * np.cumprod(1.0 + leverage * returns)
    return [float(v) for v in values]


def inav_daily_reset(
    prior_nav: F64,
    leverage: F64,
    benchmark_move: F64,
    carry: F64,
    accrual_years: float,
) -> F64:
    """Intraday iNAV, linear in the benchmark move since the prior strike (DOMAIN.md §2)."""
    return prior_nav * (1.0 + leverage * benchmark_move + carry * accrual_years)
