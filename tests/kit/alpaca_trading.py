"""Order state for the local Alpaca: REST order JSON, replace, cancel, fills and positions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OPEN = {"new", "accepted", "pending_new", "partially_filled", "pending_cancel", "pending_replace"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _num(x: Any) -> str | None:
    return None if x is None else f"{float(x):g}"


@dataclass
class Venue:
    """Orders by id, positions by symbol; every change returns trade_updates events to push."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_coid: dict[str, str] = field(default_factory=dict)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)  # qty, avg price
    prices: dict[str, float] = field(default_factory=dict)  # market orders fill here at once
    quotes: dict[str, tuple[float, float]] = field(default_factory=dict)  # bid, ask: used first
    cash: float = 100_000.0

    def new_order(self, body: dict[str, Any]) -> dict[str, Any]:
        t = now_iso()
        oid = str(uuid.uuid4())
        coid = body.get("client_order_id") or str(uuid.uuid4())
        o = {
            "id": oid, "client_order_id": coid, "created_at": t, "updated_at": t,
            "submitted_at": t, "filled_at": None, "expired_at": None, "canceled_at": None,
            "failed_at": None, "replaced_at": None, "replaced_by": None, "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, body["symbol"])),
            "symbol": body["symbol"], "asset_class": "us_equity", "notional": None,
            "qty": _num(body.get("qty")), "filled_qty": "0", "filled_avg_price": None,
            "order_class": "simple", "order_type": body["type"], "type": body["type"],
            "side": body["side"], "time_in_force": body["time_in_force"],
            "limit_price": _num(body.get("limit_price")), "stop_price": None,
            "status": "new", "extended_hours": bool(body.get("extended_hours", False)),
            "legs": None, "trail_percent": None,
            "trail_price": None, "hwm": None, "position_intent": None,
        }
        self.orders[oid] = o
        self.by_coid[coid] = oid
        return o

    def lookup(self, coid: str) -> dict[str, Any] | None:
        oid = self.by_coid.get(coid)
        return None if oid is None else self.orders[oid]

    def open_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["status"] in OPEN]

    def cancel(self, o: dict[str, Any]) -> dict[str, Any]:
        o["status"] = "canceled"
        o["canceled_at"] = o["updated_at"] = now_iso()
        return event("canceled", o)

    def replace(self, old: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        new = self.new_order(
            {
                "symbol": old["symbol"], "side": old["side"], "type": old["type"],
                "time_in_force": body.get("time_in_force") or old["time_in_force"],
                "qty": body.get("qty", old["qty"]),
                "limit_price": body.get("limit_price", old["limit_price"]),
                "client_order_id": body.get("client_order_id"),
            }
        )
        new["replaces"] = old["id"]
        old["status"] = "replaced"
        old["replaced_by"] = new["id"]
        old["replaced_at"] = old["updated_at"] = now_iso()
        return new

    def fill(self, o: dict[str, Any], qty: float | None, price: float) -> dict[str, Any]:
        """Fill `qty` (default: the rest) at `price`; returns the trade_updates event."""
        total = float(o["qty"])
        done = float(o["filled_qty"])
        q = min(total - done, qty if qty is not None else total - done)
        avg = float(o["filled_avg_price"] or 0.0)
        o["filled_avg_price"] = f"{(avg * done + price * q) / (done + q):g}"
        o["filled_qty"] = f"{done + q:g}"
        full = done + q >= total - 1e-9
        o["status"] = "filled" if full else "partially_filled"
        o["updated_at"] = now_iso()
        if full:
            o["filled_at"] = o["updated_at"]
        sign = 1 if o["side"] == "buy" else -1
        pq, pavg = self.positions.get(o["symbol"], (0.0, 0.0))
        nq = pq + sign * q
        navg = price if pq == 0 or (pq > 0) != (nq > 0) else (
            (pavg * abs(pq) + price * q) / abs(nq) if abs(nq) > abs(pq) else pavg
        )
        self.positions[o["symbol"]] = (nq, navg)
        self.cash -= sign * q * price
        return event("fill" if full else "partial_fill", o, price=price, qty=q, position_qty=nq)

    def marketable(self, o: dict[str, Any]) -> float | None:
        """The fill price of an order that trades at once, else None (CLS waits for the close)."""
        if o["time_in_force"] in ("cls", "opg"):
            return None
        buy = o["side"] == "buy"
        touch = self.quotes.get(o["symbol"])
        px = (touch[1] if buy else touch[0]) if touch else self.prices.get(o["symbol"])
        if px is None or o["type"] == "market":
            return px
        lim = float(o["limit_price"])
        ok = px <= lim if buy else px >= lim
        return px if ok else None

    def position_json(self, sym: str) -> dict[str, Any]:
        q, avg = self.positions[sym]
        px = self.prices.get(sym, avg)
        return {
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, sym)), "symbol": sym,
            "exchange": "NASDAQ", "asset_class": "us_equity", "avg_entry_price": f"{avg:g}",
            "qty": f"{q:g}", "qty_available": f"{q:g}", "side": "long" if q >= 0 else "short",
            "market_value": f"{q * px:g}", "cost_basis": f"{q * avg:g}",
            "unrealized_pl": f"{q * (px - avg):g}", "current_price": f"{px:g}",
        }


def event(name: str, o: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"event": name, "timestamp": now_iso(), "order": dict(o)}
    if name in ("fill", "partial_fill"):
        data["execution_id"] = str(uuid.uuid4())
        data["price"] = f"{extra['price']:g}"
        data["qty"] = f"{extra['qty']:g}"
        data["position_qty"] = f"{extra['position_qty']:g}"
    return {"stream": "trade_updates", "data": data}
