"""Values worked out once per evaluation for every signal: the context's reads of the clock and the
book, and the benchmark volatilities the signals share. Each must equal what a signal computed on
its own (to the bit: cached decisions compare their inputs exactly) and follow the book and the
clock from one evaluation to the next."""

from __future__ import annotations

import math
import struct

import pytest
from tests.kit import strategy as k

from inavd.domain.instruments import Universe
from inavd.domain.intents import Intent
from inavd.domain.units import NS_PER_S
from inavd.settings import PremiumReversionSettings, Settings
from inavd.signals import _common, base
from inavd.signals._common import BenchmarkVols
from inavd.signals.base import Context, Signal
from inavd.signals.config import (
    DecayMonitorSettings,
    MocFlowSettings,
    PremiumArbSettings,
    VolHedgeSettings,
)
from inavd.signals.decay_monitor import DecayMonitor
from inavd.signals.factory import build_signals
from inavd.signals.moc_flow import MocFlow
from inavd.signals.premium_arb import PremiumArb
from inavd.signals.premium_reversion import PremiumReversion
from inavd.signals.vol_hedge import VolHedge
from inavd.signals.volatility import EwmaVol
from inavd.sizing import Sizer, SizingSettings


def same_bits(a: float, b: float) -> bool:
    """Bit for bit (a cached decision is reused only on exactly equal inputs)."""
    return struct.pack("<d", a) == struct.pack("<d", b)


def spy_at(n: int) -> tuple[float, float]:
    """A SPY touch that moves at every step."""
    mid = 270.0 + 0.05 * math.sin(n) + 0.01 * n
    return mid - 0.01, mid + 0.01


def test_the_contexts_mid_is_the_books_and_follows_the_book() -> None:
    u = k.universe()
    t = k.at(11, 0)
    b = k.book(u, {"SPY": (269.99, 270.02), "SH": (24.99, 25.02)}, t)
    ctx = k.context(b, t)
    for sym in ("SPY", "SH"):
        assert same_bits(ctx.mid(sym), float(b.mid[b.index[sym]]))
    assert math.isnan(ctx.mid("SDS"))  # in the book, never quoted
    assert math.isnan(ctx.mid("XYZ"))  # not in the book
    b.apply(k.quote_batch(b, {"SPY": (270.49, 270.51)}, t + 1))
    assert same_bits(k.context(b, t + 1).mid("SPY"), 270.5)


def test_minutes_to_close_is_per_context() -> None:
    u = k.universe()
    t = k.at(15, 35)
    b = k.book(u, {"SPY": (269.99, 270.01)}, t)
    ctx = k.context(b, t)
    assert same_bits(ctx.minutes_to_close, (k.session().close_ns - t) / (60 * NS_PER_S))
    assert same_bits(ctx.minutes_to_close, 25.0)  # the same value when read again
    assert same_bits(k.context(b, k.at(15, 36)).minutes_to_close, 24.0)  # a later clock
    assert Context(t, None, b, {}).minutes_to_close == -math.inf  # no session: never trade


def test_shared_vols_update_once_per_context_as_each_signal_did() -> None:
    u = k.universe()
    vols = BenchmarkVols()
    shared = vols.get("SPY", 0.94)
    assert vols.get("SPY", 0.94) is shared
    slower = vols.get("SPY", 0.97)
    assert slower is not shared
    own, own_slower = EwmaVol(0.94), EwmaVol(0.97)  # what each signal kept before
    for n in range(30):
        t = k.at(11, 0) + n * 15 * NS_PER_S
        b = k.book(u, {"SPY": spy_at(n)}, t, warm=1)
        ctx = k.context(b, t)
        for _ in range(3):  # three signals ask at the same evaluation: one update
            vols.update(ctx)
        own.update(t, ctx.mid("SPY"))
        own_slower.update(t, ctx.mid("SPY"))
        assert shared.n == own.n == n
        assert same_bits(shared.var_per_s, own.var_per_s)
        assert same_bits(slower.var_per_s, own_slower.var_per_s)
    assert shared.annual > 0 and not same_bits(shared.annual, slower.annual)


def test_the_factory_gives_every_signal_the_same_estimate() -> None:
    u = k.universe()
    settings = Settings(
        strategies={
            "premium_arb": {"enabled": True},
            "moc_flow": {"enabled": True, "closing_volume_usd": {"SPY": 1e9}},
            "vol_hedge": {
                "enabled": True,
                "portfolio_beta_usd": {"SPY": 50_000},
                "daily_closes": "",
            },
            "decay_monitor": {"enabled": True},
        }
    )
    sigs = {getattr(s, "inner", s).name: getattr(s, "inner", s) for s in build_signals(settings, u)}
    arb, moc, hedge, decay = sigs["premarb"], sigs["mocflow"], sigs["volhedge"], sigs["decay"]
    assert isinstance(arb, PremiumArb) and isinstance(moc, MocFlow)
    assert isinstance(hedge, VolHedge) and isinstance(decay, DecayMonitor)
    spy = arb.vol["SPY"]
    assert moc.vol["SPY"] is spy and hedge.ewma["SPY"] is spy and decay.vol["SPY"] is spy


def _signals(u: Universe, vols: BenchmarkVols | None) -> list[Signal]:
    """Premium arbitrage, the vol hedge and the decay monitor, sharing `vols` (or each its own)."""
    sizer = Sizer(SizingSettings(vol_target=0.16))
    arb = PremiumArbSettings(enabled=True, symbols=["SDS", "SSO"], hedge=True)
    hedge = VolHedgeSettings(enabled=True, portfolio_beta_usd={"SPY": 50_000}, daily_closes="")
    decay = DecayMonitorSettings(enabled=True, exempt_strategies=[], min_samples=5, benefit_bp=0)
    return [
        PremiumArb(arb, u, sizer, vols=vols),
        VolHedge(hedge, u, sizer, vols=vols),
        DecayMonitor(decay, u, vols=vols),
    ]


def test_signals_sharing_estimates_decide_as_signals_keeping_their_own() -> None:
    u = k.universe()
    shared, alone = _signals(u, BenchmarkVols()), _signals(u, None)
    decided: list[Intent] = []
    for n in range(40):
        t = k.at(15, 25) + n * 15 * NS_PER_S
        b = k.book(u, {"SPY": spy_at(n), "SDS": (49.99, 50.01), "SSO": (79.98, 80.02)}, t)
        # a discount that comes and goes, and positions for the decay monitor to watch
        prem = {"SDS": -12.0 if n % 3 else 0.0, "SSO": 9.0 if n % 4 == 1 else 0.0}
        ev = k.event(u, t, {"SDS": 50.0, "SSO": 80.0}, prem)
        held = {"SDS": 100.0, "SH": 50.0} if n > 5 else {}
        ctx_shared, ctx_alone = k.context(b, t, held), k.context(b, t, held)
        for a, b_ in zip(shared, alone, strict=True):
            got, want = a.on_inav(ev, ctx_shared), b_.on_inav(ev, ctx_alone)
            assert got == want
            decided += got
    assert {i.strategy for i in decided} == {"premarb", "volhedge", "decay"}


def test_moc_flow_enters_in_a_benchmarks_own_wider_window() -> None:
    u = k.universe()
    cfg = MocFlowSettings(
        enabled=True,
        closing_volume_usd={"SPY": 1e9, "QQQ": 1e9},
        overrides={"QQQ": {"entry_min_before_close": 30.0}},
    )
    sig = MocFlow(cfg, u, Sizer(SizingSettings()))
    quotes = {"SPY": (239.84, 239.86), "QQQ": (189.99, 190.01)}

    def step(t: int) -> list[Intent]:
        ev = k.event(u, t, {}, flow_by_benchmark={"SPY": -60e6, "QQQ": -60e6})
        return sig.on_inav(ev, k.context(k.book(u, quotes, t), t))

    (entry,) = step(k.at(15, 35))  # 25 minutes left: inside QQQ's window only
    assert entry.symbol == "QQQ" and entry.target_qty < 0
    (exit_,) = step(k.at(15, 35, 15))
    assert (exit_.symbol, exit_.target_qty) == ("QQQ", 0.0)
    assert step(k.at(15, 36)) == []


def test_few_funds_are_tested_one_by_one_as_the_arrays_test_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Premium arbitrage and premium reversion find their candidates fund by fund when they have
    few funds: the same entries and exits as the whole-array tests they stand for."""
    u = k.universe()

    def walk() -> list[Intent]:
        sizer = Sizer(SizingSettings())
        arb = PremiumArb(PremiumArbSettings(enabled=True, symbols=["SDS", "SSO"]), u, sizer)
        rev = PremiumReversion(PremiumReversionSettings(), ("SH", "PSQ"), sizer)
        decided: list[Intent] = []
        for n in range(40):
            t = k.at(15, 20) + n * 15 * NS_PER_S
            quotes = {"SPY": spy_at(n), "SDS": (49.99, 50.01), "SSO": (79.98, 80.02)}
            quotes |= {"SH": (24.99, 25.01), "PSQ": (19.99, 20.01)}
            b = k.book(u, quotes, t)
            prem = {
                "SDS": -12.0 if n % 3 else math.nan,
                "SSO": 9.0 if n % 4 == 1 else -1.0,
                "SH": -15.0 + n % 7,
                "PSQ": -30.0 if n % 5 else 0.0,
            }
            ev = k.event(u, t, {"SDS": 50.0, "SSO": 80.0, "SH": 25.0, "PSQ": 20.0}, prem)
            held = {"SDS": 100.0, "SH": 50.0} if n % 6 > 2 else {}
            for sig in (arb, rev):
                decided += sig.on_inav(ev, k.context(b, t, held))
        return decided

    one_by_one = walk()
    monkeypatch.setattr(_common, "SMALL", 0)  # every signal tests the whole arrays
    assert walk() == one_by_one
    assert {i.strategy for i in one_by_one} == {"premarb", "premrev"}


@pytest.mark.parametrize("list_book", [512, 0])
def test_the_contexts_quotes_are_the_books_read_once(
    list_book: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists for a small book, the arrays' views for a large one: the same Python floats."""
    monkeypatch.setattr(base, "LIST_BOOK", list_book)
    u = k.universe()
    t = k.at(11, 0)
    b = k.book(u, {"SPY": (269.99, 270.02), "SH": (24.99, 25.02), "SSO": (80.01, 80.05)}, t)
    ctx = k.context(b, t)
    bids, asks = ctx.quotes
    again = ctx.quotes  # read once per context: the same two sequences (the tuple holding them
    assert again[0] is bids and again[1] is asks  # is a new one per read when compiled)
    for sym, i in b.index.items():
        bid, ask = b.bid.item(i), b.ask.item(i)
        assert type(bids[i]) is float and type(asks[i]) is float
        assert same_bits(bids[i], bid) or (math.isnan(bids[i]) and math.isnan(bid))
        assert same_bits(asks[i], ask) or (math.isnan(asks[i]) and math.isnan(ask))
        got = ctx.touch(sym)
        assert (got is not None and got == (bids[i], asks[i])) or math.isnan(bid)
        mid = float(b.mid[i])
        assert same_bits(ctx.mid(sym), mid) or (math.isnan(mid) and math.isnan(ctx.mid(sym)))
    assert ctx.touch("XYZ") is None and math.isnan(ctx.mid("XYZ"))
