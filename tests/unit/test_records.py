"""The order-path records (intents, orders, fills, positions, bus events) are values: immutable,
equal and hashed by their fields, copied with a change, and pickled whole (research workers)."""

from __future__ import annotations

import copy
import pickle

import msgspec
import pytest

from inavd.domain.events import (
    Event,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    OrderUpdated,
    SignalEmitted,
    TradingState,
    TradingStateChanged,
)
from inavd.domain.intents import Intent
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
from inavd.execution.events import ReconciliationDiff

REQ = OrderRequest("r1-s-SH-1", "SH", Side.SELL, 10.0, OrderType.LIMIT, TimeInForce.DAY, 25.5)
ORDER = Order(REQ, "b1", OrderStatus.NEW, submitted_ns=5, updated_ns=5)
FILL = Fill(7, "r1-s-SH-1", "b1", "SH", Side.SELL, 4.0, 25.5, "e1", fee_usd=0.01)
RECORDS = [
    Intent("s", "SH", -10.0, "entry"),
    REQ,
    ORDER,
    FILL,
    Position("SH", -4.0, 25.5),
    OrderSubmitted(1, REQ),
    OrderUpdated(2, ORDER),
    OrderFilled(3, FILL, -4.0),
    OrderDenied(4, "max_qty", "too large", REQ),
    SignalEmitted(5, "s", "SH", -10.0, "entry"),
    TradingStateChanged(6, TradingState.HALTED, "loss limit"),
    ReconciliationDiff(8, "missing_fill", "SH", "r1-s-SH-1", "e1"),
]


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: type(r).__name__)
def test_records_are_immutable_values(rec: msgspec.Struct) -> None:
    name = msgspec.structs.fields(type(rec))[0].name
    with pytest.raises(AttributeError):
        setattr(rec, name, getattr(rec, name))
    twin = copy.copy(rec)
    assert twin == rec and hash(twin) == hash(rec)
    back = pickle.loads(pickle.dumps(rec))
    assert type(back) is type(rec) and back == rec and hash(back) == hash(rec)


def test_replace_changes_only_the_named_fields() -> None:
    filled = ORDER.with_status(OrderStatus.FILLED, 9)
    assert (filled.status, filled.updated_ns, filled.submitted_ns) == (OrderStatus.FILLED, 9, 5)
    assert filled.request is REQ and ORDER.status is OrderStatus.NEW and filled != ORDER
    bigger = msgspec.structs.replace(REQ, qty=20.0)
    assert bigger.qty == 20.0 and bigger.signed_qty == -20.0 and REQ.qty == 10.0
    assert msgspec.structs.replace(bigger, qty=10.0) == REQ


def test_defaults_fields_and_equality_across_types() -> None:
    it = Intent("s", "SH", 5.0, "why")
    assert (it.order_type, it.time_in_force, it.limit_price) == (
        OrderType.MARKET,
        TimeInForce.DAY,
        None,
    )
    assert [f.name for f in msgspec.structs.fields(Fill)] == [
        "ts_ns",
        "client_order_id",
        "broker_order_id",
        "symbol",
        "side",
        "qty",
        "price",
        "execution_id",
        "fee_usd",
    ]
    assert ORDER.remaining_qty == 10.0 and FILL.notional_usd == 102.0
    # same fields, different record: never equal
    other: object = it
    assert SignalEmitted(5, "s", "SH", -10.0, "entry") != other
    assert isinstance(OrderFilled(3, FILL, -4.0), Event)
    assert {REQ, msgspec.structs.replace(REQ)} == {REQ}


# ------------------------------------------------------------------ the other value classes
def _values() -> list[msgspec.Struct]:
    """Value classes that were frozen dataclasses: still immutable, equal, hashed and pickled
    by their fields (research workers receive them pickled), in their declared field order."""
    from datetime import date

    from inavd.brokers.capabilities import AccountRules, AssetRules, ConfiguredRules
    from inavd.calendar import session_for
    from inavd.domain.instruments import Fund, Holdings, SwapLeg
    from inavd.signals.garch import GarchFit

    session = session_for(date(2019, 12, 19))
    assert session is not None
    holdings = Holdings(1e6, 5e5, swaps=(SwapLeg("SPY", -2e7),))
    return [
        session,
        Fund("SDS", "SPY", -2.0, 0.0089, holdings=holdings, shortable=True),
        AccountRules(equity_usd=30_000.0, last_equity_usd=29_000.0, daytrade_count=1),
        AssetRules("SH", shortable=True),
        ConfiguredRules(frozenset({"SH"})),
        GarchFit(0.0, 1e-6, 0.1, 0.85, 1234.5, 1e-4, True, 40),
    ]


@pytest.mark.parametrize("value", _values(), ids=lambda v: type(v).__name__)
def test_value_classes_stay_values(value: msgspec.Struct) -> None:
    name = value.__struct_fields__[0]
    with pytest.raises(AttributeError):
        setattr(value, name, getattr(value, name))
    back = pickle.loads(pickle.dumps(value))
    assert type(back) is type(value) and back == value and hash(back) == hash(value)
    assert msgspec.structs.replace(value) == value
    assert repr(value).startswith(f"{type(value).__name__}({name}=")


def test_value_classes_keep_their_field_order_and_defaults() -> None:
    from inavd.domain.instruments import Fund

    f = Fund("SH", "SPY", -1.0, 0.0089)
    assert Fund.__struct_fields__ == (
        "symbol", "benchmark", "leverage", "expense_ratio", "aum_usd", "net_creations_usd",
        "holdings", "shortable",
    )  # fmt: skip
    assert (f.aum_usd, f.net_creations_usd, f.holdings, f.shortable) == (0.0, 0.0, None, False)
    assert f.is_inverse and f.rebalance_factor == 2.0
