"""The end-of-run summary: counted from bus events, printed for people and written as JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inavd.bus import Bus
from inavd.domain.events import (
    InavEvaluated,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    SignalEmitted,
)
from inavd.settings import StrategiesSettings


@dataclass
class _Stat:
    n: int = 0
    total: float = 0.0
    lo: float = float("inf")
    hi: float = float("-inf")

    def add(self, x: float) -> None:
        self.n += 1
        self.total += x
        self.lo = min(self.lo, x)
        self.hi = max(self.hi, x)


@dataclass
class SummaryCollector:
    inav_evaluations: int = 0
    orders: int = 0
    fills: int = 0
    signals: Counter[str] = field(default_factory=Counter)
    denials: Counter[str] = field(default_factory=Counter)
    premium: dict[str, _Stat] = field(default_factory=dict)

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
        finite = np.isfinite(ev.premium_bp)
        for j in np.nonzero(finite)[0]:
            self.premium.setdefault(ev.symbols[j], _Stat()).add(float(ev.premium_bp[j]))

    def premium_table(self) -> dict[str, dict[str, float]]:
        return {
            s: {"min": round(st.lo, 3), "max": round(st.hi, 3), "mean": round(st.total / st.n, 3)}
            for s, st in sorted(self.premium.items())
            if st.n
        }


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
        f"  wall time         {summary['wall_seconds']:>12.2f} s"
        f"  ({summary['quotes_per_second']:,.0f} quotes/s)",
        "  premium/discount (bp):  fund     min     mean      max",
    ]
    for sym, st in summary["premium_bp"].items():
        lines.append(
            f"{'':26}{sym:<6} {st['min']:>7.2f} {st['mean']:>8.2f} {st['max']:>8.2f}"
        )
    lines.append(f"  journal           {summary['journal_path']}")
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
