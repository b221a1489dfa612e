"""Immutable events carried by the in-process bus. Arrays inside events are read-only copies.

Events are frozen `msgspec.Struct`s like the orders they carry (`domain/orders.py`): several of
them are built for every order and fill.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec
import numpy as np
import numpy.typing as npt

from inavd.domain.orders import Fill, Order, OrderRequest

F64 = npt.NDArray[np.float64]


def freeze(a: F64) -> F64:
    """Mark an array the producer will not touch again as read-only (no copy)."""
    a.flags.writeable = False
    return a


def frozen_copy(a: F64) -> F64:
    out = np.array(a, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"  # only exposure-reducing orders pass
    HALTED = "halted"  # nothing new passes; cancels do


class Event(msgspec.Struct, frozen=True):
    ts_ns: int


class InavEvaluated(Event, frozen=True):
    """One evaluation of every fund's iNAV (arrays aligned with `symbols`)."""

    symbols: tuple[str, ...]
    inav: F64
    mid: F64
    premium_bp: F64
    benchmark_move: F64  # fraction since the benchmark's prior close
    flow_usd: F64  # estimated closing rebalance trade, + = buy benchmark exposure
    flow_by_benchmark: dict[str, float] = msgspec.field(default_factory=dict)
    seq: int = 0


class OrderSubmitted(Event, frozen=True):
    request: OrderRequest


class OrderUpdated(Event, frozen=True):
    order: Order


class OrderFilled(Event, frozen=True):
    fill: Fill
    position_qty: float  # signed position after the fill


class SignalEmitted(Event, frozen=True):
    strategy: str
    symbol: str
    target_qty: float
    reason: str


class OrderDenied(Event, frozen=True):
    gate: str
    reason: str
    request: OrderRequest


class TradingStateChanged(Event, frozen=True):
    state: TradingState
    reason: str


class SessionClosed(Event, frozen=True):
    """The regular session ended (simulated or live); closing prices are final."""

    closing_mid: dict[str, float] = msgspec.field(default_factory=dict)
