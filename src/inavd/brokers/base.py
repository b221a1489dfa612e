"""The Broker protocol: the contract every venue adapter implements (paper, Alpaca).

| method | required | notes |
|---|---|---|
| submit | yes | the acknowledged order; raises OrderRejected, RateLimited, UnknownOutcome |
| cancel | yes | returns the order after the cancel request |
| replace | yes | returns the *new* order (new broker id, `replaces` the old one) |
| get_order | yes | lookup by client order id; None when the broker never saw it |
| open_orders, positions, account | yes | for reconciliation |
| set_listener | yes | order updates and fills are pushed, never polled by the core |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec

from inavd.domain.orders import Fill, Order, OrderRequest, Position

OrderListener = Callable[[Order], None]
FillListener = Callable[[Fill, float], None]  # fill, signed position after it


class Account(msgspec.Struct, frozen=True):
    cash_usd: float
    equity_usd: float
    buying_power_usd: float


class Broker(Protocol):
    name: str

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def submit(self, request: OrderRequest) -> Order: ...

    async def cancel(self, client_order_id: str) -> Order: ...

    async def replace(
        self, client_order_id: str, new_client_order_id: str, qty: float, limit_price: float | None
    ) -> Order: ...

    async def get_order(self, client_order_id: str) -> Order | None: ...

    async def open_orders(self) -> list[Order]: ...

    async def positions(self) -> dict[str, Position]: ...

    async def account(self) -> Account: ...

    def set_listener(self, on_order: OrderListener, on_fill: FillListener) -> None: ...
