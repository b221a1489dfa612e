"""End-of-day rebalance flow (DOMAIN.md §3).

trade = A·(L² − L)·R + L·F, positive = the fund buys benchmark exposure at the close. L² − L > 0 for
every inverse fund, so inverse funds trade *with* the market: they sell into a falling market.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from inavd.domain.quotes import F64


def rebalance_trade(
    aum: float, leverage: float, index_return: float, net_creations: float = 0.0
) -> float:
    return aum * (leverage * leverage - leverage) * index_return + leverage * net_creations


def rebalance_trades(aum: F64, leverage: F64, index_return: F64, net_creations: F64) -> F64:
    return aum * (leverage * leverage - leverage) * index_return + leverage * net_creations


def flows_by_benchmark(flow: F64, bench_slot: npt.NDArray[np.int64], n_bench: int) -> F64:
    """Sum per benchmark; funds without a price (NaN flow) contribute nothing."""
    out: F64 = np.bincount(bench_slot, weights=np.nan_to_num(flow), minlength=n_bench).astype(
        np.float64
    )
    return out
