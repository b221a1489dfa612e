"""Immutable events carried by the in-process bus. Arrays inside events are read-only copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

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


@dataclass(frozen=True, slots=True)
class Event:
    ts_ns: int


@dataclass(frozen=True, slots=True)
class InavEvaluated(Event):
    """One evaluation of every fund's iNAV (arrays aligned with `symbols`)."""

    symbols: tuple[str, ...]
    inav: F64
    mid: F64
    premium_bp: F64
    benchmark_move: F64  # fraction since the benchmark's prior close
    flow_usd: F64  # estimated closing rebalance trade, + = buy benchmark exposure
    flow_by_benchmark: dict[str, float] = field(default_factory=dict)
    seq: int = 0


@dataclass(frozen=True, slots=True)
class OrderSubmitted(Event):
    request: OrderRequest


@dataclass(frozen=True, slots=True)
class OrderUpdated(Event):
    order: Order


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    fill: Fill
    position_qty: float  # signed position after the fill


@dataclass(frozen=True, slots=True)
class SignalEmitted(Event):
    strategy: str
    symbol: str
    target_qty: float
    reason: str


@dataclass(frozen=True, slots=True)
class OrderDenied(Event):
    gate: str
    reason: str
    request: OrderRequest


@dataclass(frozen=True, slots=True)
class TradingStateChanged(Event):
    state: TradingState
    reason: str


@dataclass(frozen=True, slots=True)
class SessionClosed(Event):
    """The regular session ended (simulated or live); closing prices are final."""

    closing_mid: dict[str, float] = field(default_factory=dict)
