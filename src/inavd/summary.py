"""The end-of-run summary: counted from bus events, printed for people and written as JSON."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from inavd.bus import Bus
from inavd.domain.events import (
    InavEvaluated,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    SignalEmitted,
)
from inavd.domain.quotes import F64
from inavd.settings import StrategiesSettings


class _PremiumStats(msgspec.Struct):
    """Per-fund premium count, sum, min and max as arrays: one vector update per evaluation.
    Each fund's sum takes its values in the same order as a scalar loop would (bit-identical)."""

    slot: dict[str, int] = msgspec.field(default_factory=dict)
    n: npt.NDArray[np.int64] = msgspec.field(default_factory=lambda: np.zeros(0, np.int64))
    total: F64 = msgspec.field(default_factory=lambda: np.zeros(0))
    lo: F64 = msgspec.field(default_factory=lambda: np.zeros(0))
    hi: F64 = msgspec.field(default_factory=lambda: np.zeros(0))
    _symbols: tuple[str, ...] = ()
    _idx: npt.NDArray[np.int64] | None = None

    def add(self, symbols: tuple[str, ...], premium: F64) -> None:
        if symbols is not self._symbols:
            self._index(symbols)
        ok = np.isfinite(premium)
        if self._idx is None:  # the engine's fund order is the slot order: update in place
            self.n += ok
            self.total += np.where(ok, premium, 0.0)
            np.fmin(self.lo, premium, out=self.lo)
            np.fmax(self.hi, premium, out=self.hi)
            return
        idx = self._idx
        self.n[idx] += ok
        self.total[idx] += np.where(ok, premium, 0.0)
        self.lo[idx] = np.fmin(self.lo[idx], premium)
        self.hi[idx] = np.fmax(self.hi[idx], premium)

    def _index(self, symbols: tuple[str, ...]) -> None:
        new = [s for s in dict.fromkeys(symbols) if s not in self.slot]
        for s in new:
            self.slot[s] = len(self.slot)
        k = len(new)
        self.n = np.concatenate([self.n, np.zeros(k, np.int64)])
        self.total = np.concatenate([self.total, np.zeros(k)])
        self.lo = np.concatenate([self.lo, np.full(k, np.inf)])
        self.hi = np.concatenate([self.hi, np.full(k, -np.inf)])
        self._symbols = symbols
        idx = np.array([self.slot[s] for s in symbols], dtype=np.int64)
        same = len(idx) == len(self.slot) and bool((idx == np.arange(len(idx))).all())
        self._idx = None if same else idx

    def table(self) -> dict[str, dict[str, float]]:
        out = {}
        for s, i in sorted(self.slot.items()):
            n = int(self.n[i])
            if n:
                lo, hi, mean = float(self.lo[i]), float(self.hi[i]), float(self.total[i]) / n
                out[s] = {"min": round(lo, 3), "max": round(hi, 3), "mean": round(mean, 3)}
        return out


class SummaryCollector(msgspec.Struct):
    inav_evaluations: int = 0
    orders: int = 0
    fills: int = 0
    signals: Counter[str] = msgspec.field(default_factory=Counter)
    denials: Counter[str] = msgspec.field(default_factory=Counter)
    premium: _PremiumStats = msgspec.field(default_factory=_PremiumStats)

    def attach(self, bus: Bus) -> None:
        bus.subscribe(InavEvaluated, self._on_inav)
        bus.subscribe(OrderSubmitted, lambda e: self._count("orders"))
        bus.subscribe(OrderFilled, lambda e: self._count("fills"))
        bus.subscribe(SignalEmitted, lambda e: self.signals.update([e.strategy]))
        bus.subscribe(OrderDenied, lambda e: self.denials.update([e.gate]))

    def _count(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)

    def _on_inav(self, ev: InavEvaluated) -> None:
        self.inav_evaluations += 1
        self.premium.add(ev.symbols, ev.premium_bp)

    def premium_table(self) -> dict[str, dict[str, float]]:
        return self.premium.table()


def thresholds_by_fund(
    strategies: StrategiesSettings, funds: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """Each fund's own premium thresholds (bp), per strategy that trades it on its premium: the
    report draws these, not one strategy's pair on every fund."""
    out: dict[str, list[dict[str, Any]]] = {}
    rev, arb = strategies.premium_reversion, strategies.premium_arb
    for sym in funds:
        lines: list[dict[str, Any]] = []
        if rev.enabled and (not rev.symbols or sym in rev.symbols):
            lines.append({"strategy": "premrev", "entry_bp": rev.entry_bp, "exit_bp": rev.exit_bp})
        if arb.enabled and arb.selects(sym):
            a = arb.for_symbol(sym)
            lines.append({"strategy": "premarb", "entry_bp": a.threshold_bp, "exit_bp": a.exit_bp})
        if lines:
            out[sym] = lines
    return out


def render_text(summary: dict[str, Any]) -> str:
    lines = [
        f"inavd run {summary['run_id']} — {summary['feed']}",
        f"  quotes            {summary['quotes']:>12,}  rejected {summary['quotes_rejected']:,} "
        f"{summary['quotes_rejected_by_reason']}",
        f"  iNAV evaluations  {summary['inav_evaluations']:>12,}",
        f"  signals           {sum(summary['signals'].values()):>12,}  {summary['signals']}",
        f"  orders            {summary['orders']:>12,}  fills {summary['fills']:,}",
        f"  denials           {sum(summary['denials'].values()):>12,}  {summary['denials']}",
        *_pnl_lines(summary),
        f"  final positions   {summary['final_positions'] or 'flat'}",
        f"  wall time         {summary['wall_seconds']:>12.3f} s"
        f"  ({summary['quotes_per_second']:,.0f} quotes/s)",
        "  premium/discount (bp):  fund     min     mean      max",
    ]
    for sym, st in summary["premium_bp"].items():
        lines.append(
            f"{'':26}{sym:<6} {st['min']:>7.2f} {st['mean']:>8.2f} {st['max']:>8.2f}"
        )
    lines.append(f"  journal           {summary['journal_path']}")
    st = summary.get("storage")
    if st:
        mb = 1024 * 1024
        lines.append(
            f"  journal growth    {st['journal_growth_bytes'] / mb:>12.2f} MB"
            f"  WAL peak {st['wal_peak_bytes'] / mb:.2f} MB (bound {st['wal_max_bytes'] / mb:g})"
            f"  iNAV history {st.get('snapshot_bytes', 0) / mb:.2f} MB"
            f" in {st.get('snapshot_segments', 0)} segment(s)"
        )
    return "\n".join(lines)


def _pnl_lines(summary: dict[str, Any]) -> list[str]:
    """P&L after costs, account and per strategy (the same numbers as `--summary-json`)."""
    pnl = summary.get("pnl")
    if not pnl:
        return [f"  realized P&L      {summary['realized_pnl']:>12,.2f} USD"]
    marked = str(summary.get("marked_at", "mid")).replace("_", " ")
    lines = [
        f"  P&L after costs   {pnl['total']:>12,.2f} USD  (marked at the {marked})",
        f"  turnover          {summary['turnover']:>12,.2f} USD  round trips"
        f" {summary['round_trips']:,}",
        "  P&L (USD):  strategy              realized  unrealized      fees     total",
    ]
    rows = [*pnl["by_strategy"].items(), ("all", pnl)]
    for name, p in rows:
        lines.append(
            f"{'':14}{name:<18} {p['realized']:>11,.2f} {p['unrealized']:>11,.2f}"
            f" {p['fees']:>9,.2f} {p['total']:>9,.2f}"
        )
    return lines
