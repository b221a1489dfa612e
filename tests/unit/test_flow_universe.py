"""The per-benchmark rebalance flow counts every configured fund, traded or not."""

from __future__ import annotations

import pytest

from inavd.book.quote_book import QuoteBook
from inavd.domain.instruments import Fund, Universe
from inavd.domain.quotes import QuoteBatch
from inavd.inav.engine import InavEngine, Reference
from inavd.settings import Config
from inavd.universe import build_universe

SH = Fund("SH", "SPY", -1, 0.0, aum_usd=1.6e9)
CONFIGURED = (
    SH,
    Fund("SDS", "SPY", -2, 0.0, aum_usd=1.0e9),
    Fund("SPXS", "SPY", -3, 0.0, aum_usd=4.5e8),  # not traded, not even quoted
    Fund("UPRO", "SPY", 3, 0.0, aum_usd=1.45e9),
    Fund("TZA", "IWM", -3, 0.0, aum_usd=3.5e8),  # other benchmark, not in this engine
)


def _engine(ref: Reference) -> InavEngine:
    u = Universe(("SPY",), (SH,))  # only SH is traded
    book = QuoteBook(u.symbols)
    eng = InavEngine(u, book, 0.0, flow_funds=CONFIGURED)
    eng.set_reference(ref)
    book.apply(QuoteBatch.of([1, 1], [0, 1], [297.99, 10.19], [298.01, 10.21], [1, 1], [1, 1]))
    return eng


def test_spy_flow_sums_all_its_funds() -> None:
    r = _engine(Reference({"SPY": 300.0, "SH": 10.0}, {}, 0)).evaluate(0)
    move = 298.0 / 300.0 - 1  # −0.667 %
    # (L² − L)·AUM: SH 2 × 1.6 bn, SDS 6 × 1.0 bn, SPXS 12 × 0.45 bn, UPRO 6 × 1.45 bn = 23.3 bn
    assert r.flow_by_benchmark[0] == pytest.approx(23.3e9 * move)
    assert r.flow_by_benchmark[0] == pytest.approx(-155.33e6, rel=1e-4)
    assert r.flow_usd[0] == pytest.approx(3.2e9 * move)  # the traded fund's own share


def test_official_aum_replaces_the_configured_one() -> None:
    ref = Reference({"SPY": 300.0, "SH": 10.0}, {}, 0, aum_usd={"SPXS": 9.0e8, "SH": 2.0e9})
    r = _engine(ref).evaluate(0)
    move = 298.0 / 300.0 - 1
    total = 2 * 2.0e9 + 6 * 1.0e9 + 12 * 9.0e8 + 6 * 1.45e9  # 29.5 bn
    assert r.flow_by_benchmark[0] == pytest.approx(total * move)
    assert r.flow_usd[0] == pytest.approx(4.0e9 * move)


def test_universe_lists_the_major_funds_of_each_benchmark(default_config: Config) -> None:
    u = build_universe(default_config.universe)
    by_bench: dict[str, set[str]] = {}
    for f in u.funds:
        by_bench.setdefault(f.benchmark, set()).add(f.symbol)
    assert {"SH", "SDS", "SPXU", "SPXS", "SSO", "UPRO", "SPXL"} <= by_bench["SPY"]
    assert {"PSQ", "QID", "SQQQ", "QLD", "TQQQ"} <= by_bench["QQQ"]
    assert {"RWM", "TWM", "TZA", "TNA", "SRTY", "URTY", "UWM"} <= by_bench["IWM"]
    assert {"DOG", "DXD", "SDOW", "DDM", "UDOW"} <= by_bench["DIA"]
    assert all(f.aum_usd > 0 for f in u.funds)
