"""Every broker call goes through here: the shared rate limiter, timeouts, retries with backoff.

What each failure means (see `inavd.errors`):
- `RateLimited` (429): the request was refused before doing anything → pause everyone, retry.
- `RetryableBrokerError` (5xx, connection reset): it may have reached the broker → for a submit,
  look the order up by client order id before trying again; reads are simply retried.
- a timeout or `UnknownOutcome`: in flight → resolved by lookup, never resent blindly.
- `OrderRejected`, `FatalBrokerError`: passed to the caller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, TypeVarTuple

import structlog

from inavd.brokers.base import Broker
from inavd.domain.orders import Order, OrderRequest, Position
from inavd.errors import RateLimited, RetryableBrokerError, UnknownOutcome
from inavd.execution.call_stats import CallStats
from inavd.execution.ratelimit import Backoff, RateLimiter, Sleep

log = structlog.get_logger(__name__)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class BrokerGateway:
    def __init__(
        self,
        broker: Broker,
        limiter: RateLimiter | None = None,
        backoff: Backoff | None = None,
        *,
        timeout_s: float | None = 5.0,
        max_attempts: int = 6,
        lookup_attempts: int = 3,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.broker = broker
        self.limiter = limiter
        self.backoff = backoff or Backoff()
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.lookup_attempts = lookup_attempts
        self._sleep = sleep
        self.retries = 0
        self.lookups = 0
        self.stats = CallStats()  # latency by operation, errors by kind (metrics)

    async def _once(
        self, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts, op: str = "call"
    ) -> T:
        """One attempt: a limiter slot, the call (under the deadline, if any), its statistics.
        `fn(*args)` rather than a closure: no frame of its own on the order path."""
        if self.limiter is not None:
            await self.limiter.acquire()
        started = time.perf_counter()
        try:
            # no deadline (the in-process venue answers synchronously): no frame in between
            if self.timeout_s is None:
                result = await fn(*args)
            else:
                result = await self._timed(lambda: fn(*args), self.timeout_s)
        except Exception as exc:
            self.stats.observe(op, time.perf_counter() - started, exc)
            raise
        self.stats.observe(op, time.perf_counter() - started)
        return result

    @staticmethod
    async def _timed(fn: Callable[[], Awaitable[T]], timeout_s: float) -> T:
        try:
            # asyncio.timeout, not wait_for: no extra task, so a call that completes without
            # suspending never hands the loop to other work mid-order
            async with asyncio.timeout(timeout_s):
                return await fn()
        except TimeoutError:
            raise UnknownOutcome(f"no answer within {timeout_s} s") from None

    async def _retrying(self, fn: Callable[[], Awaitable[T]], op: str = "call") -> T:
        """Reads and idempotent calls: retry transient failures with backoff."""
        for attempt in range(self.max_attempts):
            try:
                return await self._once(fn, op=op)
            except (RetryableBrokerError, UnknownOutcome) as exc:
                if attempt + 1 >= self.max_attempts:
                    raise
                await self._back_off(exc, attempt)
        raise AssertionError("unreachable")

    async def _back_off(self, exc: Exception, attempt: int) -> None:
        self.retries += 1
        delay = self.backoff.delay(attempt, getattr(exc, "retry_after_s", None))
        if isinstance(exc, RateLimited) and self.limiter is not None:
            self.limiter.pause(delay)
        log.info("broker call backing off", error=type(exc).__name__, delay_s=round(delay, 3))
        await self._sleep(delay)

    # ------------------------------------------------------------------ calls
    async def submit(self, req: OrderRequest) -> Order:
        """Raises OrderRejected, or UnknownOutcome when even the lookup cannot tell."""
        for attempt in range(self.max_attempts):
            try:
                return await self._once(self.broker.submit, req, op="submit")
            except RateLimited as exc:  # refused before it was looked at: safe to send again
                err: Exception = exc
            except (RetryableBrokerError, UnknownOutcome) as exc:
                found = await self.lookup(req.client_order_id)
                if found is not None:
                    return found
                if isinstance(exc, UnknownOutcome):
                    raise  # the caller decides; never resent blindly
                err = exc
            if attempt + 1 >= self.max_attempts:
                raise err
            await self._back_off(err, attempt)
        raise AssertionError("unreachable")

    async def lookup(self, coid: str) -> Order | None:
        """The broker's view of an order by client order id (None: it never got it)."""
        self.lookups += 1
        for attempt in range(self.lookup_attempts):
            try:
                return await self._once(self.broker.get_order, coid, op="lookup")
            except (RetryableBrokerError, UnknownOutcome) as exc:
                if attempt + 1 >= self.lookup_attempts:
                    raise UnknownOutcome(f"{coid}: lookup failed: {exc}") from exc
                await self._back_off(exc, attempt)
        return None

    async def cancel(self, coid: str) -> Order:
        return await self._retrying(lambda: self.broker.cancel(coid), "cancel")

    async def replace(
        self, coid: str, new_coid: str, qty: float, limit_price: float | None
    ) -> Order:
        try:
            return await self._once(
                self.broker.replace, coid, new_coid, qty, limit_price, op="replace"
            )
        except (RetryableBrokerError, UnknownOutcome):
            found = await self.lookup(new_coid)
            if found is None:
                raise
            return found

    async def get_order(self, coid: str) -> Order | None:
        return await self._retrying(lambda: self.broker.get_order(coid), "get_order")

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Any other read (e.g. an adapter's fill history) under the same limits and retries."""
        return await self._retrying(fn)

    async def open_orders(self) -> list[Order]:
        return await self._retrying(self.broker.open_orders, "open_orders")

    async def positions(self) -> dict[str, Position]:
        return await self._retrying(self.broker.positions, "positions")
