"""Prometheus metrics, one `CollectorRegistry` per app (several apps can live in one process).

Cheap by construction: quote counts, rejects, premiums, feed age, trading state and loop lag are
read from the live objects when Prometheus scrapes. Per-event figures (orders, denials, the
evaluation-time histogram) are plain integer counts updated by a bus observer (which can never raise
into the publisher) and turned into Prometheus families only at scrape time: a prometheus-client
`Counter.labels().inc()` or `Histogram.observe()` costs several µs under its lock, on every event
of the hot path.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from inavd.domain.events import (
    Event,
    InavEvaluated,
    OrderDenied,
    OrderSubmitted,
    OrderUpdated,
    TradingState,
)
from inavd.publish.mqtt import MqttPublisher

if TYPE_CHECKING:
    from inavd.ops.health import Health
    from inavd.ports import DaemonView

STATE_CODE = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
EVAL_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1)


class Metrics:
    def __init__(self, app: DaemonView, health: Health) -> None:
        self.app = app
        self.registry = CollectorRegistry(auto_describe=False)
        self.orders: Counter[str] = Counter()  # by status
        self.denials: Counter[str] = Counter()  # by gate
        self.eval_counts = [0] * (len(EVAL_BUCKETS) + 1)  # per bucket (not cumulative), then +Inf
        self.eval_sum = 0.0
        self.latest: InavEvaluated | None = None
        self.extra: list[Callable[[Event], None]] = []  # other ops observers, same dispatch
        self._dispatch: dict[type[Event], Callable[[Any], None]] = {
            InavEvaluated: self._on_inav,
            OrderUpdated: self._on_updated,
            OrderSubmitted: self._on_submitted,
            OrderDenied: self._on_denied,
        }
        self.registry.register(_LiveCollector(app, health, self))

    def attach(self) -> None:
        self.app.bus.subscribe_all(self.on_event)

    def on_event(self, ev: Event) -> None:
        handler = self._dispatch.get(type(ev))
        if handler is not None:
            handler(ev)

    def _on_inav(self, ev: InavEvaluated) -> None:
        self.latest = ev
        self.observe_eval(self.app.core.last_eval_s)

    def _on_updated(self, ev: OrderUpdated) -> None:
        self.orders[ev.order.status.value] += 1

    def _on_submitted(self, ev: OrderSubmitted) -> None:
        self.orders["submitted"] += 1

    def _on_denied(self, ev: OrderDenied) -> None:
        self.denials[ev.gate] += 1
        for fn in self.extra:
            fn(ev)

    def observe_eval(self, seconds: float) -> None:
        # bucket `le` counts observations <= its bound: the first bound >= seconds
        self.eval_counts[bisect_left(EVAL_BUCKETS, seconds)] += 1
        self.eval_sum += seconds

    def event_families(self) -> Iterator[Metric]:
        """The per-event counts as Prometheus families (scrape time)."""
        yield CounterMetricFamily(
            "inavd_orders_submitted", "Orders sent to the broker", value=self.orders["submitted"]
        )
        updates = CounterMetricFamily(
            "inavd_order_updates", "Order status changes reported by the broker", labels=["status"]
        )
        for status, n in sorted(self.orders.items()):
            if status != "submitted":
                updates.add_metric([status], n)
        yield updates
        denials = CounterMetricFamily(
            "inavd_denials", "Orders denied by a risk gate", labels=["gate"]
        )
        for gate, n in sorted(self.denials.items()):
            denials.add_metric([gate], n)
        yield denials
        cumulative = 0
        buckets: list[tuple[str, float]] = []
        for bound, n in zip((*EVAL_BUCKETS, float("inf")), self.eval_counts, strict=True):
            cumulative += n
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        yield HistogramMetricFamily(
            "inavd_inav_evaluation_seconds",
            "Wall time of one iNAV evaluation of every fund",
            buckets=buckets,
            sum_value=self.eval_sum,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _LiveCollector(Collector):
    """Values read at scrape time from the running app."""

    def __init__(self, app: DaemonView, health: Health, metrics: Metrics) -> None:
        self.app = app
        self.health = health
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        app = self.app
        yield CounterMetricFamily("inavd_quotes", "Quotes received", value=app.core.quotes)
        rej = CounterMetricFamily(
            "inavd_quotes_rejected", "Quotes rejected by the book", labels=["reason"]
        )
        for reason, n in app.book.rejected_by_reason().items():
            rej.add_metric([reason], n)
        yield rej
        yield self._premiums()
        age = self.health.feed.age_s()
        yield GaugeMetricFamily(
            "inavd_feed_age_seconds",
            "Seconds since the latest quote was applied (NaN before the first)",
            value=float("nan") if age is None else age,
        )
        yield GaugeMetricFamily(
            "inavd_trading_state",
            "Trading state: 0 active, 1 reducing (reduce-only), 2 halted",
            value=STATE_CODE[app.trading_state.state],
        )
        hb = self.health.heartbeat
        yield GaugeMetricFamily(
            "inavd_event_loop_lag_seconds", "Event loop lag at the last heartbeat", value=hb.lag_s
        )
        yield GaugeMetricFamily(
            "inavd_heartbeat_age_seconds", "Seconds since the last heartbeat", value=hb.age_s()
        )
        ready, _ = self.health.readiness()
        yield GaugeMetricFamily("inavd_ready", "1 when /readyz passes", value=int(ready))
        yield GaugeMetricFamily(
            "inavd_task_failures", "Background tasks given up", value=len(app.supervisor.failed)
        )
        yield GaugeMetricFamily(
            "inavd_reference_excluded_funds",
            "Funds excluded from trading for lack of a valid reference",
            value=len(getattr(app, "excluded_funds", ())),
        )
        yield from self.metrics.event_families()
        yield from self._mqtt()
        yield from self._feed_stats()

    def _feed_stats(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "inavd_broker_refused", "Broker answers 401/403 while trading (each halts trading)",
            value=getattr(self.app, "broker_fatal", 0),
        )
        stats = getattr(self.app.feed, "stats", None)  # live market-data clients only
        if stats is None:
            return
        yield CounterMetricFamily(
            "inavd_feed_bad_frames", "Market-data frames that could not be decoded, skipped",
            value=stats.bad_frames,
        )
        yield CounterMetricFamily(
            "inavd_feed_bad_messages", "Malformed or unknown-symbol quotes skipped",
            value=stats.bad,
        )

    def _premiums(self) -> GaugeMetricFamily:
        g = GaugeMetricFamily(
            "inavd_premium_bp", "Latest premium (+) or discount (-) to iNAV, bp", labels=["symbol"]
        )
        ev = self.metrics.latest
        if ev is not None:
            for j in np.nonzero(np.isfinite(ev.premium_bp))[0]:
                g.add_metric([ev.symbols[j]], float(ev.premium_bp[j]))
        return g

    def _mqtt(self) -> Iterator[Metric]:
        for s in self.app.services:
            if not isinstance(s, MqttPublisher):
                continue
            yield GaugeMetricFamily(
                "inavd_mqtt_connected", "1 when the MQTT broker is connected", value=s.connected
            )
            yield CounterMetricFamily(
                "inavd_mqtt_published", "MQTT messages published", value=s.published
            )
            yield CounterMetricFamily(
                "inavd_mqtt_dropped", "MQTT events dropped (outbox full)", value=s.outbox.dropped
            )
            c = CounterMetricFamily(
                "inavd_control_rejected", "Control commands refused", labels=["reason"]
            )
            for reason, n in s.control_rejected.items():
                c.add_metric([reason], n)
            yield c
