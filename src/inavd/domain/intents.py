"""What signals ask for: a target position with a reason. Signals never call the broker."""

from __future__ import annotations

import msgspec

from inavd.domain.orders import OrderType, TimeInForce


class Intent(msgspec.Struct, frozen=True):
    strategy: str
    symbol: str
    target_qty: float  # signed shares wanted after execution
    reason: str
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: float | None = None
