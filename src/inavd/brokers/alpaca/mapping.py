"""Alpaca REST / trade_updates JSON ↔ domain types. Amounts arrive as decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alpaca.trading.enums import OrderSide
from alpaca.trading.enums import TimeInForce as AlpacaTif
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from inavd.brokers.base import Account
from inavd.domain.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from inavd.domain.units import PRICE_EPS

STATUS = {s.value: s for s in OrderStatus}
# statuses we do not model map onto the nearest one that keeps the order's open/terminal meaning
STATUS.update(
    {
        "stopped": OrderStatus.NEW,
        "calculated": OrderStatus.NEW,
        "suspended": OrderStatus.NEW,
        "held": OrderStatus.NEW,
    }
)


def to_alpaca(
    req: OrderRequest, extended_hours: bool = False
) -> MarketOrderRequest | LimitOrderRequest:
    """MOC = market + cls, LOC = limit + cls. `extended_hours`: outside regular hours a limit DAY
    order carries Alpaca's flag, or it waits for the open (the gates send no other kind then)."""
    common: dict[str, Any] = {
        "symbol": req.symbol,
        "qty": req.qty,
        "side": OrderSide.BUY if req.side is Side.BUY else OrderSide.SELL,
        "time_in_force": AlpacaTif(req.time_in_force.value),
        "client_order_id": req.client_order_id,
    }
    if req.order_type is OrderType.LIMIT:
        if extended_hours and req.time_in_force is TimeInForce.DAY:
            common["extended_hours"] = True
        return LimitOrderRequest(limit_price=req.limit_price, **common)
    return MarketOrderRequest(**common)


def ts_ns(value: Any) -> int:
    if not value:
        return 0
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return round(dt.timestamp() * 1e6) * 1000


def _f(value: Any, default: float = 0.0) -> float:
    return default if value in (None, "") else float(value)


def request_from_json(d: dict[str, Any]) -> OrderRequest:
    limit = d.get("limit_price")
    return OrderRequest(
        client_order_id=str(d["client_order_id"]),
        symbol=str(d["symbol"]),
        side=Side(d["side"]),
        qty=_f(d.get("qty")),
        order_type=OrderType.LIMIT if d.get("type") == "limit" else OrderType.MARKET,
        time_in_force=TimeInForce(d["time_in_force"]),
        limit_price=None if limit in (None, "") else float(limit),
    )


def same_order(a: OrderRequest, b: OrderRequest) -> bool:
    """The same instruction (ignoring strategy and reason), prices within PRICE_EPS."""
    if a.limit_price is None or b.limit_price is None:
        same_px = a.limit_price is None and b.limit_price is None
    else:
        same_px = abs(a.limit_price - b.limit_price) < PRICE_EPS
    return same_px and (a.symbol, a.side, a.order_type, a.time_in_force) == (
        b.symbol, b.side, b.order_type, b.time_in_force
    ) and abs(a.qty - b.qty) < 1e-9  # fmt: skip


def order_from_json(d: dict[str, Any], known: OrderRequest | None = None) -> Order:
    """`known`: our own request for this client order id (keeps strategy and reason)."""
    req = request_from_json(d)
    if known is not None:
        req = OrderRequest(
            req.client_order_id, req.symbol, req.side, req.qty, req.order_type,
            req.time_in_force, req.limit_price, known.strategy, known.reason,
        )  # fmt: skip
    avg = d.get("filled_avg_price")
    return Order(
        request=req,
        broker_order_id=str(d["id"]),
        status=STATUS.get(str(d.get("status")), OrderStatus.NEW),
        filled_qty=_f(d.get("filled_qty")),
        avg_fill_price=None if avg in (None, "") else float(avg),
        submitted_ns=ts_ns(d.get("submitted_at")),
        updated_ns=ts_ns(d.get("updated_at")),
    )


def fill_from_update(data: dict[str, Any], order: Order) -> tuple[Fill, float]:
    """A fill / partial_fill event → (Fill, signed position after it)."""
    fill = Fill(
        ts_ns=ts_ns(data.get("timestamp")),
        client_order_id=order.client_order_id,
        broker_order_id=order.broker_order_id,
        symbol=order.symbol,
        side=order.request.side,
        qty=float(data["qty"]),
        price=float(data["price"]),
        execution_id=str(data.get("execution_id") or ""),
    )
    return fill, float(data.get("position_qty") or 0.0)


def position_from_json(d: dict[str, Any]) -> Position:
    qty = float(d["qty"])
    if d.get("side") == "short" and qty > 0:
        qty = -qty
    return Position(str(d["symbol"]), qty, _f(d.get("avg_entry_price")))


def account_from_json(d: dict[str, Any]) -> Account:
    return Account(_f(d.get("cash")), _f(d.get("equity")), _f(d.get("buying_power")))
