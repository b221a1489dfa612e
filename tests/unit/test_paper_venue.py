"""Paper venue: displayed size depletion, impact, walking the book, fees on fills, the official
close and the closing-impact model, borrow over the close, matching stops, refused fills."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.unit.test_paper_broker import Venue, req

from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.brokers.paper_close import ClosingAuction, official_closes
from inavd.brokers.paper_config import PaperSettings
from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.costs import CostModel, CostSettings
from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Fund
from inavd.domain.orders import Fill, OrderType, Side, TimeInForce
from inavd.domain.quotes import QuoteBatch
from inavd.execution.events import ReconciliationDiff
from inavd.execution.router import OrderRouter
from inavd.feeds.sample import SAMPLE_DAY, sample_dir


def fills(v: Venue) -> list[tuple[float, float]]:
    return [(f.qty, round(f.price, 6)) for f, _ in v.fills]


async def test_displayed_size_taken_is_gone_until_the_quote_changes() -> None:
    v = Venue()
    v.quote(1, 24.00, 24.01, az=300)
    await v.broker.submit(req("a", Side.BUY, 500))
    v.broker.on_market(1)
    assert fills(v) == [(300, 24.01)]
    v.quote(2, 24.00, 24.01, az=300)  # the same quote again: the 300 shown are the ones taken
    assert fills(v) == [(300, 24.01)]
    v.quote(3, 24.00, 24.01, az=250)  # the size changed: fresh liquidity
    assert fills(v) == [(300, 24.01), (200, 24.01)]


async def test_two_orders_share_one_displayed_quote() -> None:
    v = Venue()
    v.quote(1, 24.00, 24.01, az=150)
    await v.broker.submit(req("a", Side.BUY, 100))
    await v.broker.submit(req("b", Side.BUY, 100))
    v.broker.on_market(1)
    assert [(f.client_order_id, f.qty) for f, _ in v.fills] == [("a", 100), ("b", 50)]


async def test_linear_impact_in_bp_per_displayed_size() -> None:
    v = Venue(settings=PaperSettings(impact_bp_per_displayed=10))
    v.quote(1, 23.99, 24.00, az=300)
    await v.broker.submit(req("a", Side.BUY, 150))
    v.broker.on_market(1)
    # half the displayed size: 5 bp beyond the ask, 24.00 × 1.0005 = 24.012
    assert fills(v) == [(150, 24.012)]


async def test_market_rest_walks_deeper_levels_when_configured() -> None:
    v = Venue(settings=PaperSettings(market_rest="walk", walk_levels=2))
    v.quote(1, 24.00, 24.02, az=100)
    await v.broker.submit(req("a", Side.BUY, 250))
    v.broker.on_market(1)
    # touch 100 @ 24.02, then levels one spread (0.02) apart, 100 shares each
    assert fills(v) == [(100, 24.02), (100, 24.04), (50, 24.06)]
    o = await v.broker.get_order("a")
    assert o is not None and o.avg_fill_price == pytest.approx((2402 + 2404 + 1203) / 250)


async def test_every_fill_carries_its_fees_and_the_ledger_books_them() -> None:
    v = Venue()
    v.quote(1, 24.00, 24.01, bs=1000)
    await v.broker.submit(req("s", Side.SELL, 1000))
    v.broker.on_market(1)
    f = v.fills[0][0]
    # SEC 24,000 × 20.70e-6 = 0.4968 → 0.50; TAF 1,000 × 0.000119 = 0.119 → 0.12
    assert f.fee_usd == pytest.approx(0.62)
    assert v.broker.ledger.fees_usd == pytest.approx(0.62)
    assert v.broker.ledger.cash_usd == pytest.approx(1_000_000 + 24_000 - 0.62)


async def test_moc_fills_at_the_official_close_not_the_last_mid() -> None:
    v = Venue(auction=ClosingAuction({"SH": 24.27}))
    v.quote(1, 24.10, 24.11)
    await v.broker.submit(req("moc", Side.BUY, 100, time_in_force=TimeInForce.CLS))
    await v.broker.submit(
        req("loc", Side.BUY, 100, order_type=OrderType.LIMIT, limit_price=24.20,
            time_in_force=TimeInForce.CLS)
    )  # fmt: skip
    v.broker.on_session_close({"SH": 24.105}, 100)
    assert [(f.client_order_id, f.price) for f, _ in v.fills] == [("moc", 24.27)]
    loc = await v.broker.get_order("loc")
    assert loc is not None and loc.status.value == "expired"  # 24.27 is above its 24.20 limit


def test_official_close_of_the_bundled_day() -> None:
    closes = official_closes(SAMPLE_DAY, ("SPY", "SH", "TQQQ", "NOPE"), sample_dir())
    assert closes["SPY"] == pytest.approx(320.90)  # the daily data's close
    assert closes["SH"] == pytest.approx(24.27)
    assert 80 < closes["TQQQ"] < 100  # no daily row: the last 1-minute bar of the day
    assert "NOPE" not in closes


def test_closing_impact_moves_the_close_by_flow_over_volume() -> None:
    sh = Fund("SH", "SPY", -1.0, 0.0089)
    auction = ClosingAuction(
        {"SPY": 320.90, "SH": 24.27},
        impact_fraction=0.01,
        closing_volume_usd={"SPY": 2.0e9},
        funds=[sh],
    )
    empty = np.zeros(0)
    auction.on_inav(
        InavEvaluated(0, (), empty, empty, empty, empty, empty, {"SPY": 3.4e8})
    )  # predicted rebalance buying of 340 M against 2 bn closing volume: 17 %
    prices = auction.run({"SPY": 320.5, "SH": 24.3, "QQQ": 210.0})
    assert prices["SPY"] == pytest.approx(320.90 * (1 + 0.01 * 0.17))  # +1.7 bp
    assert prices["SH"] == pytest.approx(24.27 * (1 - 0.01 * 0.17))  # leverage −1
    assert prices["QQQ"] == pytest.approx(210.0)  # no volume estimate, no official: the mid
    assert auction.source == {"QQQ": "mid", "SH": "official", "SPY": "official"}


async def test_short_held_over_the_close_pays_a_day_of_borrow() -> None:
    costs = CostModel(CostSettings(borrow_rate=0.036, sec_fee_per_million_usd=0, taf_max_usd=0))
    v = Venue(costs=costs, auction=ClosingAuction({"SH": 25.0}))
    v.quote(1, 24.00, 24.01, bs=1000)
    await v.broker.submit(req("s", Side.SELL, 1000))
    v.broker.on_market(1)
    v.broker.on_session_close({"SH": 24.005}, 100)
    # 1,000 × 25.00 × 3.6 % / 360 = 2.50
    assert v.broker.ledger.fees_usd == pytest.approx(2.50)


async def test_next_match_is_the_first_usable_quote_at_or_after_the_live_time() -> None:
    book = QuoteBook(("SH", "SPY"))
    broker = PaperBroker(book, SimClock(0), latency_ms=50)
    await broker.submit(req("a", Side.BUY, 10, order_type=OrderType.LIMIT, limit_price=24.00))
    ms = 1_000_000
    batch = QuoteBatch.of(
        [10 * ms, 60 * ms, 61 * ms, 62 * ms, 63 * ms],
        [0, 1, 0, 0, 0],
        [23.99, 320.0, 23.99, 23.99, 23.98],
        [24.00, 320.1, 24.01, 24.00, 23.99],
        [100.0] * 5,
        [100.0, 100.0, 100.0, 0.0, 100.0],
    )
    # 0: before the live time; 1: another symbol; 2: not marketable; 3: no size; 4: the one
    assert broker.next_match(batch) == 4
    assert broker.next_match(batch.slice(0, 4)) == -1


async def test_a_fill_with_a_non_finite_price_is_refused_and_reported() -> None:
    book = QuoteBook(("SH",))
    clock = SimClock(0)
    bus = Bus()
    seen: list[ReconciliationDiff] = []
    bus.subscribe(ReconciliationDiff, seen.append)
    router = OrderRouter("run", PaperBroker(book, clock), bus, clock)
    bad = Fill(1, "c1", "b1", "SH", Side.BUY, 100, math.nan, "e1")
    assert router.on_fill(bad, 100) is False
    assert router.ledger.qty == {} and router.stats.refused_fills == 1
    assert [d.kind for d in seen] == ["refused_fill"]
    good = Fill(2, "c1", "b1", "SH", Side.BUY, 100, 24.0, "e2")
    assert router.on_fill(good, 100) is True and router.ledger.position("SH") == 100
