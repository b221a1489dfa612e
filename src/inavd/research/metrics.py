"""One day's compact result: the run summary's figures and what a watcher saw on the bus.

P&L after costs, per strategy and turnover are the daemon's own (`inavd.pnl`, the summary's
`pnl` block). A `DayWatch` subscribed to the day's bus adds what the summary does not carry: the
intraday drawdown of the account's P&L after costs, marked at the book's mids at every iNAV
evaluation, and the distribution of the premiums seen.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from inavd.domain.events import InavEvaluated

if TYPE_CHECKING:
    from inavd.app import App

# Premium histogram: fixed 2.5 bp bins over ±50 bp (outliers land in the end bins), so days
# and settings add up bin by bin.
PREMIUM_EDGES = np.linspace(-50.0, 50.0, 41)
PNL_KEYS = ("realized", "unrealized", "fees", "total")


def usd(x: float) -> float:
    """Cents, and never -0.0 (rows are compared byte for byte)."""
    r = round(float(x), 2)
    return 0.0 if r == 0 or not math.isfinite(r) else r


class DayWatch:
    """Follows one replay from its bus: P&L after costs at every evaluation, premiums seen."""

    def __init__(self) -> None:
        self.peak = 0.0  # the day starts flat
        self.drawdown = 0.0
        self.hist = np.zeros(len(PREMIUM_EDGES) - 1, dtype=np.int64)
        self._app: App | None = None

    def attach(self, app: App) -> None:
        self._app = app
        app.bus.subscribe(InavEvaluated, self._on_inav)

    def _on_inav(self, ev: InavEvaluated) -> None:
        seen = ev.premium_bp[np.isfinite(ev.premium_bp)]
        if seen.size:
            bins = np.searchsorted(PREMIUM_EDGES[1:-1], seen, side="right")  # end bins catch all
            self.hist += np.bincount(bins, minlength=self.hist.size)
        assert self._app is not None
        equity = self._equity(self._app)
        self.peak = max(self.peak, equity)
        self.drawdown = max(self.drawdown, self.peak - equity)

    @staticmethod
    def _equity(app: App) -> float:
        ledger, book = app.router.ledger, app.book
        mid = book.mid
        marks = {s: float(mid[book.index[s]]) for s in ledger.qty if s in book.index}
        marks = {s: m for s, m in marks.items() if math.isfinite(m)}
        return ledger.realized_pnl_usd + ledger.unrealized_pnl(marks) - ledger.fees_usd


def day_row(summary: dict[str, Any], watch: DayWatch) -> dict[str, Any]:
    return {
        "orders": int(summary["orders"]),
        "fills": int(summary["fills"]),
        "pnl": day_pnl(summary["pnl"]),
        "turnover": usd(float(summary["turnover"])),
        "max_drawdown": usd(watch.drawdown),
        "premium_hist": [int(c) for c in watch.hist],
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
