"""One publishing round is bounded (event count and wall time) while trading runs, so a burst
cannot take a large share of the loop; at shutdown the whole backlog is flushed in order."""

from __future__ import annotations

import asyncio
import gc

import orjson
import pytest

from inavd.domain.events import OrderDenied
from inavd.domain.orders import OrderRequest, Side
from inavd.publish import mqtt
from inavd.publish.mqtt import EVENT_WINDOW, ROUND_MAX_EVENTS, MqttPublisher
from inavd.publish.settings import MqttSettings


class FakeClient:
    def __init__(self, ack_delay_s: float) -> None:
        self.ack_delay_s = ack_delay_s
        self.sent: list[str] = []
        self.ids: list[str] = []

    async def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        await asyncio.sleep(self.ack_delay_s)  # the PUBACK round trip
        self.sent.append(topic)
        self.ids.append(orjson.loads(payload)["client_order_id"])


def _publisher(n: int) -> MqttPublisher:
    pub = MqttPublisher(MqttSettings(instance="t"))
    for i in range(n):
        req = OrderRequest(f"c{i}", "SH", Side.BUY, 1.0)
        pub.outbox.offer(OrderDenied(i, "halted", "trading halted", req))
    return pub


async def test_round_is_capped_by_count() -> None:
    pub, client = _publisher(150), FakeClient(0.0)
    gc.collect()  # earlier tests' garbage collected inside the 4 ms round would end it early
    await pub._publish_events(client)  # type: ignore[arg-type]
    assert len(client.sent) == ROUND_MAX_EVENTS and len(pub.outbox.events) == 150 - 64


async def test_round_is_capped_by_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt, "ROUND_BUDGET_S", 0.005)
    pub, client = _publisher(150), FakeClient(0.02)  # a slow broker (or a busy loop)
    await pub._publish_events(client)  # type: ignore[arg-type]
    assert len(client.sent) == EVENT_WINDOW  # the first window overran the budget: round over


async def test_stopping_flushes_everything_in_order() -> None:
    pub, client = _publisher(150), FakeClient(0.0)
    pub._stopping.set()
    await pub._publish_events(client)  # type: ignore[arg-type]
    assert len(client.sent) == 150 and not pub.outbox.events and pub.published == 150
    assert client.ids == [f"c{i}" for i in range(150)]
