"""Broker faults: timeouts and dropped acknowledgements (resolved by lookup, never resent),
429 bursts and 5xx (backoff; the client-side limit is never exceeded)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from inavd.domain.intents import Intent
from inavd.domain.orders import Order, OrderRequest, OrderType
from inavd.errors import RateLimited, RetryableBrokerError
from inavd.execution.config import ExecutionSettings, RateLimitSettings
from inavd.execution.ratelimit import Backoff, RateLimiter
from tests.fault.engine_kit import Engine


class Flaky:
    """Wraps the paper venue; `script` says what happens to each submit, in order."""

    name = "flaky"

    def __init__(self, inner: Any, script: list[str]) -> None:
        self.inner = inner
        self.script = script
        self.sent: list[str] = []  # submits that reached the venue

    async def submit(self, req: OrderRequest) -> Order:
        what = self.script.pop(0) if self.script else "ok"
        if what == "timeout_before":  # hangs before anything is sent
            await asyncio.sleep(10)
        self.sent.append(req.client_order_id)
        order = await self.inner.submit(req)
        if what == "drop_ack":  # sent and accepted, the answer never comes
            await asyncio.sleep(10)
        if what == "5xx_after":
            raise RetryableBrokerError("502 bad gateway")
        return order  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def fast(**kw: Any) -> ExecutionSettings:
    rl = RateLimitSettings(backoff_base_ms=1, backoff_max_ms=5)
    return ExecutionSettings(call_timeout_s=0.05, rate_limit=rl, **kw)


def limit_intent(qty: float) -> Intent:
    return Intent("s", "SH", qty, "t", order_type=OrderType.LIMIT, limit_price=23.0)


async def test_dropped_ack_is_found_by_lookup_and_not_resent(tmp_path: Path) -> None:
    e0 = Engine(tmp_path, fast())
    flaky = Flaky(e0.paper, ["drop_ack"])
    e = Engine(tmp_path / "b", fast(), broker=flaky)
    flaky.inner = e.paper
    e.quote("SH", 24.0, 24.02)
    order = await e.router.handle(limit_intent(100))
    assert order is not None and order.status.is_open
    assert flaky.sent == [order.client_order_id] and e.paper.duplicate_submits == 0
    assert e.router.gateway.lookups == 1
    assert e.rows("SELECT status FROM orders") == [("new",)]


async def test_timeout_before_send_is_lost_not_resent_and_next_intent_gets_new_id(
    tmp_path: Path,
) -> None:
    e = Engine(tmp_path, fast())
    flaky = Flaky(e.paper, ["timeout_before"])
    e.router.gateway.broker = flaky  # type: ignore[assignment]
    e.router.gateway.timeout_s = 0.05
    e.quote("SH", 24.0, 24.02)
    assert await e.router.handle(limit_intent(100)) is None
    lost = e.rows("SELECT client_order_id, status, updated_ns FROM orders")
    assert len(lost) == 1 and lost[0][1] == "rejected" and flaky.sent == []
    assert e.router.stats.lost == 1
    again = await e.router.handle(limit_intent(100))
    assert again is not None and again.client_order_id != lost[0][0]
    assert e.paper.duplicate_submits == 0


async def test_5xx_after_send_is_resolved_by_lookup(tmp_path: Path) -> None:
    e = Engine(tmp_path, fast())
    flaky = Flaky(e.paper, ["5xx_after"])
    e.router.gateway.broker = flaky  # type: ignore[assignment]
    e.router.gateway.timeout_s = 0.05
    e.quote("SH", 24.0, 24.02)
    order = await e.router.handle(limit_intent(100))
    assert order is not None and len(flaky.sent) == 1 and e.paper.duplicate_submits == 0


class VirtualTime:
    """Seconds that pass only when somebody sleeps: the venue, the limiter and the backoff
    share it, so which call meets a 429 or a 503 does not depend on the machine's speed."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


class Server429:
    """A venue with its own limit (`limit` per `window_s`) that answers 429 beyond it, and a
    503 on every 7th call; it records when each call arrived."""

    name = "strict"

    def __init__(self, inner: Any, limit: int, window_s: float, now: Any = time.monotonic) -> None:
        self.inner, self.limit, self.window_s, self.now = inner, limit, window_s, now
        self.calls: list[float] = []
        self.n = 0
        self.refused = 0
        self.unavailable = 0

    async def submit(self, req: OrderRequest) -> Order:
        now = self.now()
        self.calls.append(now)
        self.n += 1
        if sum(1 for t in self.calls if t > now - self.window_s) > self.limit:
            self.refused += 1
            raise RateLimited("429 too many requests")
        if self.n % 7 == 0:
            self.unavailable += 1
            raise RetryableBrokerError("503 unavailable")  # before it was processed
        return await self.inner.submit(req)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_429_bursts_and_5xx_back_off_and_the_limit_holds(tmp_path: Path) -> None:
    e = Engine(tmp_path, fast())
    clock = VirtualTime()
    server = Server429(e.paper, limit=8, window_s=0.5, now=clock.now)  # stricter than us: 429s
    gw = e.router.gateway
    gw.broker = server  # type: ignore[assignment]
    gw.timeout_s = 1.0
    gw._sleep = clock.sleep  # the backoff waits on the same virtual time
    # client side: 10 per 0.5 s (the "200/min with headroom" scaled down to keep the test short)
    gw.limiter = RateLimiter(per_minute=10, headroom=1.0, period_s=0.5, now=clock.now,
                             sleep=clock.sleep)  # fmt: skip
    gw.backoff = Backoff(0.05, 0.4, seed=3)
    e.quote("SH", 24.0, 24.02)
    symbols = ["SH", "PSQ"]
    for k in range(30):  # a burst of 30 orders
        e.quote(symbols[k % 2], 24.0, 24.02)
        await e.router.handle(Intent(f"s{k}", symbols[k % 2], (k + 1) * 10 * (-1) ** k, "t",
                                     order_type=OrderType.LIMIT, limit_price=1.0 if k % 2 == 0
                                     else 99.0))  # fmt: skip
    placed = e.paper.orders
    assert len(placed) == 30 and e.paper.duplicate_submits == 0
    starts = [c for c in server.calls]
    for i, t in enumerate(starts):  # the client never started more than 10 in any 0.5 s
        assert sum(1 for u in starts[i:] if u < t + 0.5) <= 10
    # every 429 and every 503 was retried, and both happened
    assert server.refused > 0 and server.unavailable > 0
    assert gw.retries == server.refused + server.unavailable
