"""Prometheus metrics, one `CollectorRegistry` per app (several apps can live in one process).

Cheap by construction: quote counts, rejects, premiums, feed age, trading state and loop lag are
read from the live objects when Prometheus scrapes; only per-event counters (orders, denials) and
the evaluation-time histogram are updated as events happen, from a bus observer that can never
raise into the publisher.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
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
    from inavd.app import App
    from inavd.ops.health import Health

STATE_CODE = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
EVAL_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1)


class Metrics:
    def __init__(self, app: App, health: Health) -> None:
        self.app = app
        self.registry = CollectorRegistry(auto_describe=False)
        self.orders = Counter(
            "inavd_orders", "Order lifecycle events by status", ["status"], registry=self.registry
        )
        self.denials = Counter(
            "inavd_denials", "Orders denied by a risk gate", ["gate"], registry=self.registry
        )
        self.eval_seconds = Histogram(
            "inavd_inav_evaluation_seconds",
            "Wall time of one iNAV evaluation of every fund",
            buckets=EVAL_BUCKETS,
            registry=self.registry,
        )
        self.latest: InavEvaluated | None = None
        self.registry.register(_LiveCollector(app, health, self))

    def attach(self) -> None:
        self.app.bus.subscribe_all(self.on_event)

    def on_event(self, ev: Event) -> None:
        if isinstance(ev, InavEvaluated):
            self.latest = ev
            self.eval_seconds.observe(self.app.core.last_eval_s)
        elif isinstance(ev, OrderUpdated):
            self.orders.labels(ev.order.status.value).inc()
        elif isinstance(ev, OrderSubmitted):
            self.orders.labels("submitted").inc()
        elif isinstance(ev, OrderDenied):
            self.denials.labels(ev.gate).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _LiveCollector(Collector):
    """Values read at scrape time from the running app."""

    def __init__(self, app: App, health: Health, metrics: Metrics) -> None:
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
        yield from self._mqtt()

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
