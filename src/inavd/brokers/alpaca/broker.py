"""The Alpaca Broker: alpaca-py's synchronous TradingClient off the event loop, fills pushed by
the trade_updates stream.

Orders are gated (`gate`) until the trade stream is authorised; after every re-authorisation the
open orders are reconciled against REST before the gate opens again, because updates sent while
the stream was down are lost. A submit whose outcome is unknown (timeout, 5xx) or that hits the
422 duplicate client order id is resolved by looking the order up — never by resubmitting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec
import structlog
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import ReplaceOrderRequest

from inavd.brokers.alpaca import mapping, rules
from inavd.brokers.alpaca.errors import (
    DuplicateClientOrderId,
    OrderNotFound,
    map_error,
    retry_after_s,
)
from inavd.brokers.alpaca.stream import TradeUpdates
from inavd.brokers.base import Account, FillListener, OrderListener
from inavd.brokers.capabilities import AccountRules, AssetRules
from inavd.domain.orders import Order, OrderRequest, Position
from inavd.errors import OrderRejected, RateLimited, UnknownOutcome
from inavd.execution.ratelimit import Backoff, RateLimiter
from inavd.live_config import AlpacaSettings, Credentials, quiet_wire_loggers

log = structlog.get_logger(__name__)
T = TypeVar("T")


class AlpacaBroker:
    name = "alpaca"

    def __init__(
        self,
        creds: Credentials,
        settings: AlpacaSettings,
        *,
        limiter: RateLimiter | None = None,
        backoff: Backoff | None = None,
        max_attempts: int = 6,
        extended_hours: Callable[[], bool] | None = None,
    ) -> None:
        quiet_wire_loggers()
        self.extended_hours = extended_hours or (lambda: False)  # True: outside regular hours
        self.settings = settings
        self.client = TradingClient(
            creds.key_id,
            creds.secret_key,
            paper=settings.paper,
            raw_data=True,
            url_override=settings.trading_url or None,
        )
        self.client._retry = 0  # its 429 retry blocks a thread for 3 s: paced and retried here
        session = self.client._session
        session.request = functools.partial(  # type: ignore[method-assign]
            session.request, timeout=settings.rest_timeout_s
        )
        # the process's one broker-call limiter: every HTTP request takes a slot, so the
        # router's gateway does not count this broker's calls a second time
        self.limiter = limiter or RateLimiter()
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.rate_limited = 0  # 429 answers seen
        self.stream = TradeUpdates(creds, settings, self._authorized, self._lost)
        self.stream.subscribe_trade_updates(self._on_update)
        self.trading_ready = False
        self.reconciles = 0
        self._requests: dict[str, OrderRequest] = {}  # ours, by client order id
        self._ids: dict[str, str] = {}  # client order id → broker order id
        self._orders: dict[str, Order] = {}  # latest known state, by client order id
        self._executions: set[str] = set()
        self._acked: set[str] = set()  # client order ids whose submit this process saw answered
        self._on_order: OrderListener = lambda _o: None
        self._on_fill: FillListener = lambda _f, _p: None
        self._task: asyncio.Task[None] | None = None
        self._reconcile_task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def set_listener(self, on_order: OrderListener, on_fill: FillListener) -> None:
        self._on_order, self._on_fill = on_order, on_fill

    # ------------------------------------------------------------------ lifecycle
    async def connect(self, timeout_s: float = 15.0) -> None:
        run = self.stream._run_forever()  # type: ignore[no-untyped-call]
        self._task = asyncio.create_task(run, name="alpaca-trade-updates")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError:
            log.warning("trade stream not authorised yet: orders stay gated")

    async def close(self) -> None:
        await self.stream.stop_ws()
        await self.stream.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 2.0)
            self._task.cancel()
        if self._reconcile_task is not None:
            self._reconcile_task.cancel()

    def gate(self, req: OrderRequest) -> tuple[str, str] | None:
        if self.trading_ready:
            return None
        return ("broker", "trade stream not authorised or not reconciled")

    def _authorized(self) -> None:
        log.info("trade stream authorised: reconciling")
        self._reconcile_task = asyncio.get_running_loop().create_task(self._reconcile_then_open())

    def _lost(self) -> None:
        self.trading_ready = False
        self._ready.clear()
        log.warning("trade stream lost: orders gated until re-authorised and reconciled")

    async def _reconcile_then_open(self) -> None:
        try:
            await self.reconcile()
        except Exception as exc:  # stay gated; the next authorisation tries again
            log.error("reconciliation failed: orders stay gated", error=str(exc))
            return
        if self.stream.authorized:
            self.trading_ready = True
            self._ready.set()

    async def reconcile(self) -> None:
        """Bring every order we know up to the broker's state (updates may have been lost)."""
        self.reconciles += 1
        held = {s: p.qty for s, p in (await self.positions()).items()}
        open_now = {d["client_order_id"]: d for d in await self._call(self._open_json)}
        for coid, known in list(self._orders.items()):
            if not known.status.is_open:
                continue
            d = open_now.get(coid) or await self._lookup_json(coid)
            if d is not None:
                self._apply_order_json(d, synthesize_fill=True, held=held)
        for d in open_now.values():
            if d["client_order_id"] not in self._orders:
                self._apply_order_json(d, synthesize_fill=False)

    # ------------------------------------------------------------------ REST calls
    async def _call(self, fn: Callable[..., T], *args: Any, submitting: bool = False) -> T:
        """One HTTP request under the shared limiter. A 429 was refused before anything
        happened, so it is retried here, after pausing every caller of the limiter."""
        for attempt in range(self.max_attempts):
            await self.limiter.acquire()
            try:
                return await asyncio.to_thread(fn, *args)
            except Exception as exc:
                err = map_error(exc, submitting=submitting)
                if not isinstance(err, RateLimited) or attempt + 1 >= self.max_attempts:
                    raise err from exc
                self.rate_limited += 1
                self.limiter.pause(self.backoff.delay(attempt, retry_after_s(exc)))
        raise AssertionError("unreachable")

    def _open_json(self) -> list[dict[str, Any]]:
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        out: Any = self.client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
        return list(out)

    async def _lookup_json(self, coid: str) -> dict[str, Any] | None:
        try:
            d: Any = await self._call(self.client.get_order_by_client_id, coid)
        except OrderNotFound:
            return None
        return dict(d)

    def _apply_order_json(
        self, d: dict[str, Any], synthesize_fill: bool, held: dict[str, float] | None = None
    ) -> Order:
        """Record the broker's view; when reconciling, emit the fill quantity we missed."""
        coid = str(d["client_order_id"])
        order = mapping.order_from_json(d, self._requests.get(coid))
        prev = self._orders.get(coid)
        self._orders[coid] = order
        self._ids[coid] = order.broker_order_id
        missed = order.filled_qty - (prev.filled_qty if prev else 0.0)
        if synthesize_fill and missed > 1e-9 and order.avg_fill_price is not None:
            data = {"qty": missed, "price": order.avg_fill_price, "timestamp": d.get("updated_at"),
                    "execution_id": f"reconcile-{order.broker_order_id}-{order.filled_qty:g}",
                    "position_qty": (held or {}).get(order.symbol, 0.0)}  # fmt: skip
            fill, position = mapping.fill_from_update(data, order)
            self._executions.add(fill.execution_id)
            log.warning("fill recovered by reconciliation", client_order_id=coid, qty=missed)
            self._on_fill(fill, position)
        if prev is None or prev.status != order.status or prev.filled_qty != order.filled_qty:
            self._on_order(order)
        return order

    # ------------------------------------------------------------------ Broker protocol
    async def submit(self, request: OrderRequest) -> Order:
        if not self.trading_ready:
            raise OrderRejected("alpaca: trade stream not authorised (orders gated)")
        coid = request.client_order_id
        fresh = coid not in self._requests
        if fresh:  # before the call: its trade update may arrive before the answer
            self._requests[coid] = request
        try:
            order = mapping.to_alpaca(request, self.extended_hours())
            d: Any = await self._call(self.client.submit_order, order, submitting=True)
        except DuplicateClientOrderId:
            d = await self._resolve_duplicate(request, fresh)
        except UnknownOutcome as exc:
            log.warning("submit outcome unknown: looking it up", client_order_id=coid)
            d = await self._resolve(coid, str(exc))
        except OrderRejected as exc:
            log.warning("order rejected", client_order_id=coid, reason=str(exc))
            if fresh:
                self._requests.pop(coid, None)
            raise
        self._acked.add(coid)
        return self._apply_order_json(dict(d), synthesize_fill=False)

    async def _resolve_duplicate(self, request: OrderRequest, fresh: bool) -> dict[str, Any]:
        """422 duplicate id: the order found is *this* one when we never got its answer (a lost
        reply, a restart re-sending a journaled order) and it is the same order; otherwise the
        id is taken and the submit is refused."""
        coid = request.client_order_id
        if coid not in self._acked:
            d = await self._resolve(coid, "duplicate client order id")
            if mapping.same_order(mapping.request_from_json(d), request):
                log.info("duplicate client order id: the order was already placed", coid=coid)
                return d
        if fresh:
            self._requests.pop(coid, None)
        raise OrderRejected(f"alpaca: client order id {coid} is already used by another order")

    async def _resolve(self, coid: str, why: str) -> dict[str, Any]:
        try:
            d = await self._lookup_json(coid)
        except Exception as exc:
            raise UnknownOutcome(f"alpaca: {why}; lookup failed: {exc}") from exc
        if d is None:
            raise UnknownOutcome(f"alpaca: {why}; the broker has no order {coid} yet")
        return d

    def _broker_id(self, coid: str) -> str:
        oid = self._ids.get(coid)
        if oid is None:
            raise OrderRejected(f"alpaca: unknown client order id {coid}")
        return oid

    async def cancel(self, client_order_id: str) -> Order:
        oid = self._broker_id(client_order_id)
        await self._call(self.client.cancel_order_by_id, oid)
        d = await self._lookup_json(client_order_id)
        if d is None:
            raise OrderRejected(f"alpaca: order vanished after cancel: {client_order_id}")
        return self._apply_order_json(d, synthesize_fill=False)

    async def replace(
        self, client_order_id: str, new_client_order_id: str, qty: float, limit_price: float | None
    ) -> Order:
        """Returns the new order. A 200 does not promise the replace took effect: the
        trade_updates `replaced` / `order_replace_rejected` events settle it."""
        oid = self._broker_id(client_order_id)
        old = self._requests.get(client_order_id)
        req = ReplaceOrderRequest(
            qty=int(qty) if float(qty).is_integer() else qty,
            limit_price=limit_price,
            client_order_id=new_client_order_id,
        )
        if old is not None:
            self._requests[new_client_order_id] = msgspec.structs.replace(
                old, client_order_id=new_client_order_id, qty=qty, limit_price=limit_price
            )
        d: Any = await self._call(self.client.replace_order_by_id, oid, req)
        return self._apply_order_json(dict(d), synthesize_fill=False)

    async def get_order(self, client_order_id: str) -> Order | None:
        d = await self._lookup_json(client_order_id)
        known = self._requests.get(client_order_id)
        return None if d is None else mapping.order_from_json(d, known)

    async def open_orders(self) -> list[Order]:
        out = await self._call(self._open_json)
        return [mapping.order_from_json(d, self._requests.get(d["client_order_id"])) for d in out]

    async def positions(self) -> dict[str, Position]:
        out: Any = await self._call(self.client.get_all_positions)
        return {p.symbol: p for p in map(mapping.position_from_json, out)}

    async def account(self) -> Account:
        d: Any = await self._call(self.client.get_account)
        return mapping.account_from_json(d)

    async def clock(self) -> dict[str, Any]:
        d: Any = await self._call(self.client.get_clock)
        return dict(d)

    # ------------------------------------------------------------------ venue rules (capabilities)
    async def asset_rules(self, symbols: Sequence[str]) -> dict[str, AssetRules]:
        """One request for the active US equities, whatever the size of the universe."""
        out: Any = await self._call(self._active_assets_json)
        return rules.assets_for(out, symbols)

    def _active_assets_json(self) -> list[dict[str, Any]]:
        from alpaca.trading.enums import AssetClass, AssetStatus
        from alpaca.trading.requests import GetAssetsRequest

        req = GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY)
        out: Any = self.client.get_all_assets(req)
        return list(out)

    async def account_rules(self) -> AccountRules:
        d: Any = await self._call(self.client.get_account)
        return rules.account_rules_from_json(d)

    # ------------------------------------------------------------------ trade_updates
    async def _on_update(self, msg: dict[str, Any]) -> None:
        try:
            self._handle_update(msg.get("data") or {})
        except Exception as exc:  # never raise into the stream; reconciliation repairs
            log.error("bad trade update skipped", error=str(exc))

    def _handle_update(self, data: dict[str, Any]) -> None:
        d = data["order"]
        coid = str(d["client_order_id"])
        order = mapping.order_from_json(d, self._requests.get(coid))
        self._ids[coid] = order.broker_order_id
        prev = self._orders.get(coid)
        self._orders[coid] = order
        if data.get("event") in ("fill", "partial_fill"):
            fill, position = mapping.fill_from_update(data, order)
            if fill.execution_id not in self._executions:
                self._executions.add(fill.execution_id)
                self._on_fill(fill, position)
        if prev is None or prev.status != order.status or prev.filled_qty != order.filled_qty:
            self._on_order(order)
