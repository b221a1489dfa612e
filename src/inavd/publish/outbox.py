"""The publisher's bounded, conflating outbox.

Retained iNAV messages are conflated per topic (the newest evaluation of a fund replaces an unsent
older one), so a slow or absent broker costs at most one pending message per fund. QoS 1 events
(orders, fills, signals, denials) queue in order up to `maxsize`; beyond that the oldest is dropped
and counted. `offer` runs synchronously as a bus observer, so it only files the event: nothing
here awaits or encodes (payloads are built when sent).
"""

from __future__ import annotations

import asyncio
from collections import deque

from inavd.domain.events import (
    Event,
    InavEvaluated,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    OrderUpdated,
    SignalEmitted,
    TradingStateChanged,
)
from inavd.publish.topics import Topics, encode, event_message, inav_payload

InavRef = tuple[InavEvaluated, int]  # (evaluation, index of the fund); encoded only when sent
PUBLISHED = (OrderSubmitted, OrderUpdated, OrderFilled, SignalEmitted, OrderDenied)


class Outbox:
    def __init__(self, topics: Topics, maxsize: int) -> None:
        self.topics = topics
        self._latest: dict[str, InavRef] = {}
        # evaluations not yet split per fund, by fund list (one entry in practice): `offer` stays
        # O(1) on the hot path, the per-topic fold happens once per publishing round
        self._fresh: dict[tuple[str, ...], InavEvaluated] = {}
        self._topic_of: dict[str, str] = {}
        self.events: deque[Event] = deque()  # encoded only when sent
        self.maxsize = maxsize
        self.status_dirty = False
        self.dropped = 0
        self.conflated = 0
        self.wake = asyncio.Event()

    def offer(self, ev: Event) -> None:
        if isinstance(ev, InavEvaluated):
            older = self._fresh.get(ev.symbols)
            if older is not None:
                self.conflated += len(older.symbols)
            self._fresh[ev.symbols] = ev
        elif isinstance(ev, TradingStateChanged):
            self.status_dirty = True
        elif isinstance(ev, PUBLISHED):
            if len(self.events) >= self.maxsize:
                self.events.popleft()
                self.dropped += 1
            self.events.append(ev)
        else:
            return
        self.wake.set()

    @property
    def latest(self) -> dict[str, InavRef]:
        """The newest unsent evaluation of each fund, by retained topic."""
        if self._fresh:
            self._fold()
        return self._latest

    def _fold(self) -> None:
        for ev in self._fresh.values():
            for j, sym in enumerate(ev.symbols):
                topic = self._topic_of.get(sym)
                if topic is None:
                    topic = self._topic_of[sym] = self.topics.inav(sym)
                if topic in self._latest:
                    self.conflated += 1
                self._latest[topic] = (ev, j)
        self._fresh.clear()

    @property
    def pending(self) -> int:
        return len(self.latest) + len(self.events) + int(self.status_dirty)

    def retained_batch(self) -> list[tuple[str, InavRef]]:
        return list(self.latest.items())

    def sent_retained(self, topic: str, ref: InavRef) -> None:
        # only forget it if no newer evaluation arrived while it was being sent
        if self._fresh:
            self._fold()
        if self._latest.get(topic) is ref:
            del self._latest[topic]

    def encode_event(self, ev: Event) -> tuple[str, bytes]:
        msg = event_message(ev)
        assert msg is not None  # only PUBLISHED events are queued
        return self.topics.events(msg[0]), encode(msg[1])

    @staticmethod
    def encode_inav(ref: InavRef) -> bytes:
        return inav_payload(ref[0], ref[1])
