"""Sessions built from every symbol's own real bars: inside each bar, realistic spreads."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from inavd.domain.instruments import Universe
from inavd.feeds.days import available_days, day_bars
from inavd.feeds.sample import SAMPLE_DAY, build_day_session, sample_session_path

TICK = 0.01


def _inside_bars(quotes: pd.DataFrame, bars: pd.DataFrame, sym: str) -> tuple[int, int]:
    """(minutes checked, quotes outside the bar's [low, high] by more than half a tick)."""
    q = quotes[(quotes["symbol"] == sym) & (quotes["bid"] > 0) & (quotes["bid"] <= quotes["ask"])]
    minute = pd.to_datetime(q["ts"], unit="ns", utc=True).dt.floor("1min").dt.tz_convert(
        "America/New_York"
    )
    b = bars.reindex(pd.DatetimeIndex(minute))
    real = b["Close"].notna().to_numpy()
    mid = ((q["bid"] + q["ask"]) / 2).to_numpy()[real]
    lo, hi = b["Low"].to_numpy()[real], b["High"].to_numpy()[real]
    outside = (mid < lo - TICK / 2 - 1e-9) | (mid > hi + TICK / 2 + 1e-9)
    return int(pd.Index(minute[real]).nunique()), int(outside.sum())


@pytest.mark.parametrize("day", [SAMPLE_DAY, date(2025, 4, 9), date(2025, 8, 19)])
def test_fund_quotes_stay_inside_their_real_bars_minute_by_minute(
    universe: Universe, day: date
) -> None:
    db = day_bars(day)
    quotes = (
        pd.read_parquet(sample_session_path())
        if day == SAMPLE_DAY
        else build_day_session(day, universe)
    )
    funds = [f.symbol for f in universe.funds if f.symbol in set(quotes["symbol"])]
    assert len(funds) >= 2
    for sym in funds:
        checked, outside = _inside_bars(quotes, db.bars[sym], sym)
        assert checked >= 0.25 * 390, sym  # every minute with a real bar is checked
        assert outside == 0, sym


def test_spreads_are_realistic(universe: Universe) -> None:
    q = pd.read_parquet(sample_session_path())
    good = q[(q["bid"] > 0) & (q["bid"] < q["ask"])]
    spread = good["ask"] - good["bid"]
    bp = spread / ((good["ask"] + good["bid"]) / 2) * 1e4
    by = bp.groupby(good["symbol"].astype(str)).median()
    assert by["SPY"] == pytest.approx(0.31, abs=0.05)  # one cent on 321 USD
    assert by["SH"] == pytest.approx(4.1, abs=0.3)  # one cent on 24 USD
    assert 1.5 <= by["SSO"] <= 3.5  # a 149 USD fund is quoted 3 cents wide, not 1
    assert (by.drop(["SPY", "QQQ", "IWM"]) < 12).all()
    ticks = np.round(spread.to_numpy() / TICK)
    assert np.allclose(spread, ticks * TICK, atol=1e-6)  # on the cent grid


def test_bundled_days_include_the_2019_and_2025_sessions() -> None:
    days = available_days()
    assert [d for d in days if d.year == 2019] == [
        date(2019, 12, 18), date(2019, 12, 19), date(2019, 12, 20), date(2019, 12, 23)
    ]  # fmt: skip
    y25 = [d for d in days if d.year == 2025]
    assert len(y25) == 61 + 23
    assert date(2025, 4, 9) in y25 and date(2025, 9, 19) in y25
    assert date(2025, 4, 1) not in y25  # no prior session in the data: no prior close
    db = day_bars(date(2025, 8, 19))
    assert sorted(db.bars) == ["DIA", "IWM", "QQQ", "SDS", "SPY", "SSO", "TNA", "TZA"]
    assert db.prior_close["SPY"] == pytest.approx(643.27)  # 2025-08-18 15:59 bar, not 16:00
