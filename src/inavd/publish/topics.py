"""Every MQTT topic and payload the daemon produces (documented in docs/mqtt-topics.md).

Payloads are JSON objects with `ts` (data time, ISO 8601 UTC) and `ts_ns`; floats that are not
finite become null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from inavd.domain.events import (
    Event,
    InavEvaluated,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    OrderUpdated,
    SignalEmitted,
)
from inavd.domain.orders import OrderRequest

QOS_EVENTS = 1
QOS_RETAINED = 1


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str
    instance: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.instance}"

    def inav(self, symbol: str) -> str:
        return f"{self.base}/inav/{symbol}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def control(self) -> str:
        return f"{self.base}/control"

    @property
    def control_result(self) -> str:
        return f"{self.base}/control/result"

    def events(self, kind: str) -> str:
        return f"{self.base}/{kind}"


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _ts(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")


def encode(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(obj)


def inav_payload(ev: InavEvaluated, j: int) -> bytes:
    return encode(
        {
            "ts": _ts(ev.ts_ns),
            "ts_ns": ev.ts_ns,
            "seq": ev.seq,
            "symbol": ev.symbols[j],
            "inav": _num(float(ev.inav[j])),
            "mid": _num(float(ev.mid[j])),
            "premium_bp": _num(float(ev.premium_bp[j])),
            "benchmark_move": _num(float(ev.benchmark_move[j])),
            "flow_usd": _num(float(ev.flow_usd[j])),
        }
    )


def status_payload(online: bool, version: str, state: str, run_id: str, ts_ns: int) -> bytes:
    body: dict[str, Any] = {"status": "online" if online else "offline", "ts": _ts(ts_ns)}
    if online:
        body.update(version=version, trading_state=state, run_id=run_id)
    return encode(body)


def _request(r: OrderRequest) -> dict[str, Any]:
    return {
        "client_order_id": r.client_order_id,
        "symbol": r.symbol,
        "side": r.side.value,
        "qty": r.qty,
        "order_type": r.order_type.value,
        "time_in_force": r.time_in_force.value,
        "limit_price": _num(r.limit_price),
        "strategy": r.strategy,
        "reason": r.reason,
    }


def event_message(ev: Event) -> tuple[str, dict[str, Any]] | None:
    """(topic kind, JSON body) for the QoS 1 event topics, or None for events not published."""
    head: dict[str, Any] = {"ts": _ts(ev.ts_ns), "ts_ns": ev.ts_ns}
    if isinstance(ev, OrderSubmitted):
        return "orders", {
            **head,
            "event": "submitted",
            "status": "submitted",
            **_request(ev.request),
        }
    if isinstance(ev, OrderUpdated):
        o = ev.order
        return "orders", {
            **head,
            "event": "updated",
            "status": o.status.value,
            "broker_order_id": o.broker_order_id,
            "filled_qty": o.filled_qty,
            "avg_fill_price": _num(o.avg_fill_price),
            "reject_reason": o.reject_reason,
            **_request(o.request),
        }
    if isinstance(ev, OrderFilled):
        f = ev.fill
        return "fills", {
            **head,
            "client_order_id": f.client_order_id,
            "execution_id": f.execution_id,
            "symbol": f.symbol,
            "side": f.side.value,
            "qty": f.qty,
            "price": f.price,
            "position_qty": ev.position_qty,
        }
    if isinstance(ev, SignalEmitted):
        return "signals", {
            **head,
            "strategy": ev.strategy,
            "symbol": ev.symbol,
            "target_qty": ev.target_qty,
            "reason": ev.reason,
        }
    if isinstance(ev, OrderDenied):
        body = {**head, **_request(ev.request), "gate": ev.gate, "gate_reason": ev.reason}
        return "denials", body
    return None
