"""Mean reversion: Wilder RSI, Bollinger bands, entries in the inverse fund, flat before close."""

from __future__ import annotations

import pytest
from tests.kit import strategy as k

from inavd.signals.config import MeanReversionSettings
from inavd.signals.mean_reversion import MeanReversion, Rsi, bollinger
from inavd.sizing import Sizer, SizingSettings


def test_rsi_worked_example() -> None:
    r = Rsi(3)
    for p in (10, 11, 12, 11):  # changes +1 +1 −1: gain 2/3, loss 1/3 → RS 2 → RSI 66.67
        r.update(p)
    assert r.value == pytest.approx(100 - 100 / 3)
    r.update(13)  # Wilder: gain (2/3·2 + 2)/3 = 10/9, loss (1/3·2)/3 = 2/9 → RS 5
    assert r.value == pytest.approx(100 - 100 / 6)
    assert Rsi(3).value != Rsi(3).value  # nan before enough changes


def test_bollinger_population_sd() -> None:
    lo, mid, hi = bollinger([1.0, 2.0, 3.0, 4.0], 2.0)  # σ = √1.25
    assert mid == 2.5
    assert hi - mid == pytest.approx(2 * 1.25**0.5)
    assert mid - lo == pytest.approx(2 * 1.25**0.5)


CFG = MeanReversionSettings(
    enabled=True, sample_s=60, rsi_period=3, bb_period=4, bb_k=1.5, symbols=["SPY"]
)


def drive(prices: list[float], start: int, pos: dict[str, float] | None = None) -> list:  # type: ignore[type-arg]
    u = k.universe()
    sig = MeanReversion(CFG, u, Sizer(SizingSettings()))
    out = []
    for n, p in enumerate(prices):
        t = start + n * 60_000_000_000
        b = k.book(u, {"SPY": (p - 0.01, p + 0.01), "SH": (24.99, 25.01)}, t, warm=1)
        out.append(sig.on_inav(k.event(u, t, {"SH": 25.0}), k.context(b, t, pos)))
    return out


def test_overextended_rally_buys_the_inverse_fund() -> None:
    steps = drive([100, 100.1, 100.2, 100.3, 101.5], k.at(11, 0))
    assert steps[:4] == [[], [], [], []]
    (i,) = steps[4]  # RSI 100 and 101.5 above the upper band
    assert (i.symbol, i.target_qty) == ("SH", 400.0)  # 10,000 USD of SH at 25
    assert "RSI 100" in i.reason


def test_exit_on_reversion_and_flat_before_close() -> None:
    steps = drive([100, 101, 102, 103, 100], k.at(11, 0), {"SH": 400})
    assert steps[-1][0].target_qty == 0.0 and "reverted" in steps[-1][0].reason
    late = drive([100, 101, 102, 103, 104], k.at(15, 42), {"SH": 400})
    assert late[-1][0].reason == "flat before close"
    assert drive([100, 100.1, 100.2, 100.3, 101.5], k.at(15, 41))[-1] == []  # no late entries
