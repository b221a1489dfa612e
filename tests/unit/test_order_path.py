"""The order path read once per intent: clock readings, the transition table, broker-call stats."""

from __future__ import annotations

import asyncio

import pytest

from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import OrderSubmitted, SignalEmitted
from inavd.domain.intents import Intent
from inavd.domain.orders import Order, OrderRequest, OrderStatus, Side
from inavd.domain.quotes import QuoteBatch
from inavd.errors import UnknownOutcome
from inavd.execution.call_stats import BUCKETS, CallStats
from inavd.execution.fsm import TRANSITIONS, OrderStateMachine, is_legal
from inavd.execution.gateway import BrokerGateway
from inavd.execution.router import OrderRouter

S = OrderStatus
CANCEL_WAIT_NS = 5_000_000


class SlowCancelVenue(PaperBroker):
    """A venue whose cancel takes 5 ms of the (simulated) clock to answer."""

    def __init__(self, book: QuoteBook, clock: SimClock) -> None:
        super().__init__(book, clock)
        self.sim = clock

    async def cancel(self, client_order_id: str) -> Order:
        self.sim.advance_to(self.sim.now_ns() + CANCEL_WAIT_NS)
        return await super().cancel(client_order_id)


def _router(clock: SimClock) -> tuple[OrderRouter, list[object]]:
    book = QuoteBook(("SH",))
    book.apply(QuoteBatch.of([1], [0], [24.0], [24.02], [500], [500]))
    venue = SlowCancelVenue(book, clock)
    bus = Bus()
    seen: list[object] = []
    bus.subscribe_all(seen.append)
    router = OrderRouter("run", venue, bus, clock, book=book)
    venue.set_listener(router.on_order, router.on_fill)
    return router, seen


async def test_an_order_is_stamped_at_its_intents_clock_reading() -> None:
    clock = SimClock(1_000)
    router, seen = _router(clock)
    order = await router.handle(Intent("s", "SH", 100, "buy"))
    assert order is not None and order.status is S.NEW and order.submitted_ns == 1_000
    signal, submitted = seen[0], seen[1]
    assert isinstance(signal, SignalEmitted) and isinstance(submitted, OrderSubmitted)
    assert signal.ts_ns == submitted.ts_ns == 1_000
    assert router.own_position("s", "SH") == 100  # working, not filled


async def test_a_submit_after_a_cancel_is_gated_and_stamped_after_the_broker_answered() -> None:
    clock = SimClock(1_000)
    router, seen = _router(clock)
    await router.handle(Intent("s", "SH", 100, "buy"))  # stays working: no quote after it
    seen.clear()
    order = await router.handle(Intent("s", "SH", -50, "turn"))  # cancels the buy first
    assert order is not None and order.request.side is Side.SELL and order.request.qty == 50
    signal = next(e for e in seen if isinstance(e, SignalEmitted))
    submitted = next(e for e in seen if isinstance(e, OrderSubmitted))
    assert signal.ts_ns == 1_000
    assert submitted.ts_ns == order.submitted_ns == 1_000 + CANCEL_WAIT_NS
    assert router.fsm.status["run-s-SH-1"] is S.CANCELED
    assert router.own_position("s", "SH") == -50


def test_the_transition_table_is_the_documented_rule() -> None:
    # a status may repeat only while the order lives (a re-sent update), or each partial fill
    repeatable = {s for s in S if is_legal(s, s)}
    assert repeatable == {
        S.NEW, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE, S.DONE_FOR_DAY
    }  # fmt: skip
    for old in S:
        for new in S:
            if new is not old:
                assert is_legal(old, new) == (new in TRANSITIONS[old]), (old, new)
    fsm = OrderStateMachine()
    fsm.start("a")
    assert not fsm.apply("a", S.PENDING_NEW)  # in flight is not a live status of the broker
    assert fsm.refused == {"pending_new->pending_new": 1}


def test_call_stats_count_each_call_in_its_bucket() -> None:
    stats = CallStats()
    stats.observe("submit", 0.0004)
    stats.observe("submit", 0.02)
    stats.observe("submit", 99.0, UnknownOutcome("no answer"))
    h = stats.latency["submit"]
    assert h.counts[0] == 1 and h.counts[BUCKETS.index(0.025)] == 1 and h.counts[-1] == 1
    assert h.total == pytest.approx(99.0204)
    assert stats.errors == {"timeout": 1}


class HangingVenue(PaperBroker):
    async def submit(self, request: OrderRequest) -> Order:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")


async def test_a_deadline_still_applies_to_a_venue_that_does_not_answer() -> None:
    book = QuoteBook(("SH",))
    gw = BrokerGateway(HangingVenue(book, SimClock(1)), timeout_s=0.02, max_attempts=1)
    with pytest.raises(UnknownOutcome, match=r"no answer within 0\.02 s"):
        await gw.submit(OrderRequest("x-1", "SH", Side.BUY, 1.0))
    assert gw.lookups == 1  # resolved by looking the id up, never resent
    assert gw.stats.errors["timeout"] == 1
