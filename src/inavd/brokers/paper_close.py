"""The paper venue's closing auction: the official close, optionally moved by rebalance flow.

Replays of the bundled days know the official close (the daily data; for funds without a daily
row, the last 1-minute bar, the closing print). Without one the auction prints at the last mid.

The closing-impact model moves a benchmark's close by `fraction × flow ÷ closing volume`, where
flow is the leveraged and inverse funds' predicted rebalance trade in that benchmark (USD, + =
buy) and closing volume the benchmark's usual closing-auction volume (USD); a fund's close moves
by its leverage times its benchmark's move. Calibration: published estimates put the funds'
closing trades at about 17 % of market-on-close volume per 1 % index move, so on a 1 % day
`flow ÷ volume` is about 0.17 and a fraction of 0.01 moves the close by about 1.7 bp.
An official close already contains the real auction's impact: the model is meant for sessions
without one (synthetic days, the last-mid fallback) and for what-if runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Fund
from inavd.feeds.bundled_closes import daily_closes, last_bar_close


def official_closes(day: date, symbols: Iterable[str], base: Path) -> dict[str, float]:
    """The session's official closes from `base/daily_closes.csv` and `base/bars/<SYM>.csv`."""
    wanted = set(symbols)
    out: dict[str, float] = {}
    daily = base / "daily_closes.csv"
    if daily.exists():
        on_day = daily_closes(daily).get(day.isoformat(), {})
        out = {s: c for s, c in on_day.items() if s in wanted}
    for sym in sorted(wanted - set(out)):
        last = last_bar_close(base / "bars" / f"{sym}.csv", day)
        if last is not None:
            out[sym] = last
    return {s: c for s, c in out.items() if math.isfinite(c) and c > 0}


class ClosingAuction:
    def __init__(
        self,
        official: Mapping[str, float] | None = None,
        *,
        impact_fraction: float = 0.0,
        closing_volume_usd: Mapping[str, float] | None = None,
        funds: Iterable[Fund] = (),
    ) -> None:
        self.official = dict(official or {})
        self.fraction = impact_fraction
        self.volume = dict(closing_volume_usd or {})
        self.funds = {f.symbol: f for f in funds}
        self.flow: dict[str, float] = {}  # benchmark → predicted rebalance flow, latest iNAV
        self.prices: dict[str, float] = {}  # the auction's prints, once it has run
        self.source: dict[str, str] = {}  # symbol → "official" | "mid"

    def on_inav(self, ev: InavEvaluated) -> None:
        self.flow = ev.flow_by_benchmark

    def benchmark_move(self, benchmark: str) -> float:
        """Fractional move of the benchmark's close caused by the predicted rebalance flow."""
        vol = self.volume.get(benchmark, 0.0)
        if not self.fraction or vol <= 0:
            return 0.0
        flow = self.flow.get(benchmark, 0.0)
        return self.fraction * flow / vol if math.isfinite(flow) else 0.0

    def run(self, closing_mid: Mapping[str, float]) -> dict[str, float]:
        """The closing prints: official close or last mid, moved by the impact model."""
        prices: dict[str, float] = {}
        for sym in sorted(set(closing_mid) | set(self.official)):
            base = self.official.get(sym)
            self.source[sym] = "official" if base is not None else "mid"
            px = base if base is not None else closing_mid[sym]
            fund = self.funds.get(sym)
            move = (
                fund.leverage * self.benchmark_move(fund.benchmark)
                if fund is not None
                else self.benchmark_move(sym)
            )
            prices[sym] = px * (1.0 + move)
        self.prices = prices
        return prices
