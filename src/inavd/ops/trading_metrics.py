"""Metrics an operator alerts on: P&L, positions and exposure, daily-loss headroom, fills, broker
calls (latency, errors by kind, 429s), rate-limiter waits, reconnects, reconciliation
differences and build info (docs/operations.md, 'Metrics' and 'Alerts').

Everything is read from the live objects when Prometheus scrapes, except the fills, fees and
reconciliation differences, which are plain counts kept by bus handlers.
"""

from __future__ import annotations

import math
import platform
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from inavd import __version__, native
from inavd.domain.events import OrderFilled
from inavd.execution.events import ReconciliationDiff

if TYPE_CHECKING:
    from inavd.ops.health import Health
    from inavd.ports import DaemonView


@runtime_checkable
class _Counts429(Protocol):
    rate_limited: int  # an adapter that retries 429s itself (Alpaca)


@runtime_checkable
class _Reconnects(Protocol):
    reconciles: int  # a broker that reconciles on every (re)authorised stream


@runtime_checkable
class _HasLimiter(Protocol):
    @property
    def limiter(self) -> object: ...


@dataclass
class Money:
    realized: float = 0.0
    unrealized: float = 0.0
    fees: float = 0.0
    gross: float = 0.0
    net: float = 0.0
    limit: float = 0.0
    headroom: float = 0.0
    shares: dict[str, float] = field(default_factory=dict)
    usd: dict[str, float] = field(default_factory=dict)  # at the mid


class TradingMetrics:
    def __init__(self, app: DaemonView, health: Health) -> None:
        self.app = app
        self.health = health
        self.fills = 0
        self.reconciliation: Counter[str] = Counter()  # differences by kind

    def attach(self) -> None:
        self.app.bus.subscribe(OrderFilled, self.on_fill)
        self.app.bus.subscribe(ReconciliationDiff, self.on_reconciliation)

    def on_fill(self, ev: OrderFilled) -> None:
        self.fills += 1

    def on_reconciliation(self, ev: ReconciliationDiff) -> None:
        self.reconciliation[ev.kind] += 1

    # ------------------------------------------------------------------ scrape
    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "inavd_build_info",
            "Version of the running daemon, and whether its decision path runs compiled",
            labels=["version", "python", "decision_path"],
        )
        info.add_metric([__version__, platform.python_version(), native.state()[0]], 1)
        yield info
        yield from self._money()
        yield from self._broker()
        rec = CounterMetricFamily(
            "inavd_reconciliation_differences",
            "Differences between the journal and the broker found by reconciliation",
            labels=["kind"],
        )
        for kind, n in sorted(self.reconciliation.items()):
            rec.add_metric([kind], n)
        yield rec
        feed_ok = self.health.check_feed().ok
        yield GaugeMetricFamily(
            "inavd_feed_stale", "1 when no fresh quote while the market is open", value=not feed_ok
        )

    def money(self) -> Money:
        """P&L, positions and exposure at the mids, and the daily-loss headroom, now."""
        app = self.app
        ledger, mids, index = app.router.ledger, app.gates.mids(), app.book.index
        m = Money(
            realized=ledger.realized_pnl_usd + app.gates.carried_pnl_usd, fees=ledger.fees_usd
        )
        for sym, q in sorted(ledger.qty.items()):
            if not q:
                continue
            m.shares[sym] = q
            i = index.get(sym)
            mid = mids[i] if i is not None else math.nan
            if math.isfinite(mid):
                m.usd[sym] = q * mid
                m.unrealized += q * (mid - ledger.avg_price.get(sym, mid))
                m.gross += abs(q * mid)
                m.net += q * mid
        m.limit = app.cfg.settings.risk.daily_loss_limit_usd
        m.headroom = max(m.limit + app.gates.pnl_usd(), 0.0)
        return m

    def _money(self) -> Iterator[Metric]:
        m = self.money()
        shares = GaugeMetricFamily("inavd_position_shares", "Position, shares", labels=["symbol"])
        usd = GaugeMetricFamily("inavd_position_usd", "Position at the mid, USD", labels=["symbol"])
        for sym, q in m.shares.items():
            shares.add_metric([sym], q)
            if sym in m.usd:
                usd.add_metric([sym], m.usd[sym])
        yield shares
        yield usd
        pnl = GaugeMetricFamily("inavd_pnl_usd", "Session P&L, USD", labels=["kind"])
        pnl.add_metric(["realized"], m.realized)
        pnl.add_metric(["unrealized"], m.unrealized)
        yield pnl
        exposure = GaugeMetricFamily(
            "inavd_exposure_usd", "Exposure at the mids, USD", labels=["side"]
        )
        exposure.add_metric(["gross"], m.gross)
        exposure.add_metric(["net"], m.net)
        yield exposure
        yield CounterMetricFamily(
            "inavd_fees_usd", "Fees, commissions and borrow charged this run, USD", value=m.fees
        )
        yield CounterMetricFamily("inavd_fills", "Fills (executions)", value=self.fills)
        yield GaugeMetricFamily(
            "inavd_daily_loss_limit_usd", "Daily loss limit, USD", value=m.limit
        )
        yield GaugeMetricFamily(
            "inavd_daily_loss_headroom_usd",
            "Loss still allowed before the daily-loss HALT, USD",
            value=m.headroom,
        )

    def _broker(self) -> Iterator[Metric]:
        app = self.app
        stats = app.router.gateway.stats
        hist = HistogramMetricFamily(
            "inavd_broker_request_seconds", "Broker call latency by operation", labels=["op"]
        )
        for op, h in sorted(stats.latency.items()):
            hist.add_metric([op], h.cumulative(), h.total)
        yield hist
        errors = CounterMetricFamily(
            "inavd_broker_errors", "Failed broker calls by kind", labels=["kind"]
        )
        for kind, n in sorted(stats.errors.items()):
            errors.add_metric([kind], n)
        yield errors
        adapter_429 = app.broker.rate_limited if isinstance(app.broker, _Counts429) else 0
        yield CounterMetricFamily(
            "inavd_broker_rate_limited",
            "Broker answers 429 (too many requests)",
            value=stats.errors["rate_limited"] + adapter_429,
        )
        yield CounterMetricFamily(
            "inavd_rate_limiter_waits",
            "Broker calls that waited for the rate limiter",
            value=sum(_waits(x) for x in (app.router.gateway, app.broker)),
        )
        yield self._reconnects()

    def _reconnects(self) -> CounterMetricFamily:
        app = self.app
        c = CounterMetricFamily(
            "inavd_reconnects", "Connections re-established after a loss", labels=["channel"]
        )
        if isinstance(app.broker, _Reconnects):
            c.add_metric(["broker"], max(app.broker.reconciles - 1, 0))
        feed_stats = getattr(app.feed, "stats", None)
        connects = getattr(feed_stats, "connects", None)
        if isinstance(connects, int):
            c.add_metric(["feed"], max(connects - 1, 0))
        return c


def _waits(owner: object) -> int:
    if not isinstance(owner, _HasLimiter):
        return 0
    waits = getattr(owner.limiter, "waits", 0)
    return waits if isinstance(waits, int) else 0
