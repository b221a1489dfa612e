"""Orders, fills and the broker lifecycle vocabulary (mirrors Alpaca's order statuses).

The records are frozen `msgspec.Struct`s: immutable, hashable and compared by value like a frozen
dataclass, but built several times faster (a frozen dataclass's `__init__` pays one
`object.__setattr__` per field), which counts on the order path. Copy with a change through
`msgspec.structs.replace`; `msgspec.structs.asdict` gives the fields in order.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"  # closing auction: market-on-close / limit-on-close


class OrderStatus(StrEnum):
    PENDING_NEW = "pending_new"
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    DONE_FOR_DAY = "done_for_day"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.REPLACED,
    }
)


class OrderRequest(msgspec.Struct, frozen=True):
    """What the daemon asks the broker for. Quantities in shares, prices in USD."""

    client_order_id: str
    symbol: str
    side: Side
    qty: float
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: float | None = None
    strategy: str = ""
    reason: str = ""

    @property
    def signed_qty(self) -> float:
        return self.side.sign * self.qty


class Order(msgspec.Struct, frozen=True):
    """The broker's view of an order at one moment."""

    request: OrderRequest
    broker_order_id: str
    status: OrderStatus
    filled_qty: float = 0.0
    avg_fill_price: float | None = None
    submitted_ns: int = 0
    updated_ns: int = 0
    reject_reason: str = ""

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def remaining_qty(self) -> float:
        return max(self.request.qty - self.filled_qty, 0.0)

    def with_status(self, status: OrderStatus, ts_ns: int, reason: str = "") -> Order:
        return msgspec.structs.replace(
            self, status=status, updated_ns=ts_ns, reject_reason=reason or self.reject_reason
        )


class Fill(msgspec.Struct, frozen=True):
    ts_ns: int
    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    qty: float  # shares, positive
    price: float  # USD per share
    execution_id: str
    fee_usd: float = 0.0  # fees and commission charged on this execution (costs.py)

    @property
    def signed_qty(self) -> float:
        return self.side.sign * self.qty

    @property
    def notional_usd(self) -> float:
        return self.qty * self.price


class Position(msgspec.Struct, frozen=True):
    symbol: str
    qty: float  # signed shares
    avg_price: float  # USD per share, of the open quantity
