"""Every venue adapter must pass these (see conftest.py for how to add one)."""

from __future__ import annotations

import pytest

from inavd.domain.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from inavd.errors import OrderRejected, UnknownOutcome
from inavd.execution.gateway import BrokerGateway
from tests.contract.conftest import VenueHarness


def req(coid: str, side: Side = Side.BUY, qty: float = 100, **kw: object) -> OrderRequest:
    return OrderRequest(coid, kw.pop("symbol", "SH"), side, qty, **kw)  # type: ignore[arg-type]


async def test_submit_acknowledges_and_lookup_finds_it(venue: VenueHarness) -> None:
    await venue.quote("SH", 24.00, 24.02, 500)
    o = await venue.broker.submit(req("c-1", order_type=OrderType.LIMIT, limit_price=23.50))
    assert o.client_order_id == "c-1" and o.status.is_open and o.broker_order_id
    found = await venue.broker.get_order("c-1")
    assert found is not None and found.broker_order_id == o.broker_order_id
    assert [x.client_order_id for x in await venue.broker.open_orders()] == ["c-1"]
    assert await venue.broker.get_order("never-sent") is None


async def test_duplicate_client_order_id_is_refused(venue: VenueHarness) -> None:
    await venue.quote("SH", 24.00, 24.02, 500)
    await venue.broker.submit(req("dup", order_type=OrderType.LIMIT, limit_price=23.0))
    with pytest.raises(OrderRejected):
        await venue.broker.submit(req("dup", order_type=OrderType.LIMIT, limit_price=23.0))
    assert len(await venue.broker.open_orders()) == 1


async def test_market_order_fills_and_moves_the_position(venue: VenueHarness) -> None:
    await venue.quote("SH", 24.00, 24.02, 500)
    await venue.broker.submit(req("m-1", qty=300))
    await venue.quote("SH", 24.00, 24.02, 500)
    o = await venue.broker.get_order("m-1")
    assert o is not None and o.status is OrderStatus.FILLED and o.filled_qty == 300
    assert o.avg_fill_price == pytest.approx(24.02)
    assert sum(f.qty for f in venue.fills) == 300
    assert len({f.execution_id for f in venue.fills}) == len(venue.fills)
    pos = await venue.broker.positions()
    assert pos["SH"].qty == 300 and pos["SH"].avg_price == pytest.approx(24.02)


async def test_cancel_then_cancel_again_is_refused(venue: VenueHarness) -> None:
    await venue.quote("SH", 24.00, 24.02, 500)
    await venue.broker.submit(req("x-1", order_type=OrderType.LIMIT, limit_price=23.0))
    o = await venue.broker.cancel("x-1")
    assert o.status is OrderStatus.CANCELED
    assert await venue.broker.open_orders() == []
    with pytest.raises(OrderRejected):
        await venue.broker.cancel("x-1")


async def test_replace_gives_a_new_order_and_ends_the_old(venue: VenueHarness) -> None:
    await venue.quote("SH", 24.00, 24.02, 500)
    await venue.broker.submit(req("r-1", order_type=OrderType.LIMIT, limit_price=23.0))
    new = await venue.broker.replace("r-1", "r-2", 50, 23.5)
    assert new.client_order_id == "r-2" and new.request.qty == 50
    assert new.request.limit_price == pytest.approx(23.5)
    old = await venue.broker.get_order("r-1")
    assert old is not None and old.status is OrderStatus.REPLACED
    assert [o.client_order_id for o in await venue.broker.open_orders()] == ["r-2"]


async def test_closing_auction_order_fills_at_the_closing_price(venue: VenueHarness) -> None:
    await venue.quote("SH", 24.00, 24.02, 500)
    await venue.broker.submit(req("moc", Side.SELL, 100, time_in_force=TimeInForce.CLS))
    await venue.quote("SH", 23.00, 23.02, 500)  # continuous trading does not touch it
    assert (await venue.broker.get_order("moc")).status.is_open  # type: ignore[union-attr]
    await venue.close_auction({"SH": 24.10})
    o = await venue.broker.get_order("moc")
    assert o is not None and o.status is OrderStatus.FILLED
    assert o.avg_fill_price == pytest.approx(24.10)


async def test_unknown_outcome_is_resolved_by_lookup_without_resending(
    venue: VenueHarness,
) -> None:
    """The submit reached the venue but the answer was lost: the lookup finds it."""
    inner = venue.broker
    sent: list[str] = []

    class DropAck:
        name = "drop-ack"

        async def submit(self, r: OrderRequest):  # type: ignore[no-untyped-def]
            sent.append(r.client_order_id)
            await inner.submit(r)
            raise UnknownOutcome("connection reset after send")

        async def get_order(self, coid: str):  # type: ignore[no-untyped-def]
            return await inner.get_order(coid)

    await venue.quote("SH", 24.00, 24.02, 500)
    gw = BrokerGateway(DropAck(), timeout_s=1.0)  # type: ignore[arg-type]
    o = await gw.submit(req("u-1", order_type=OrderType.LIMIT, limit_price=23.0))
    assert o.client_order_id == "u-1" and o.status.is_open
    assert sent == ["u-1"]  # never resent
    assert gw.lookups == 1


async def test_state_survives_a_client_restart(venue: VenueHarness) -> None:
    if venue.restart is None:
        pytest.skip("this venue keeps no state across clients")
    await venue.quote("SH", 24.00, 24.02, 500)
    await venue.broker.submit(req("s-1", qty=200))
    await venue.quote("SH", 24.00, 24.02, 500)
    await venue.broker.submit(req("s-2", order_type=OrderType.LIMIT, limit_price=23.0))
    broker = await venue.restart()
    assert (await broker.positions())["SH"].qty == 200
    assert [o.client_order_id for o in await broker.open_orders()] == ["s-2"]
    with pytest.raises(OrderRejected):  # it remembers every id it has seen
        await broker.submit(req("s-1", qty=1))
