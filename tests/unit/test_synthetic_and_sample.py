"""The seeded synthetic feed and the bundled sample session built from real bars."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from inavd.domain.instruments import Universe
from inavd.errors import DataError
from inavd.feeds.sample import (
    SAMPLE_DAY,
    build_sample_session,
    reference_for,
    sample_dir,
    sample_session_path,
)
from inavd.feeds.synthetic import generate_session, load_bars
from inavd.inav.daily_reset import carry_rate
from inavd.inav.engine import YEAR_NS


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return pd.read_parquet(sample_session_path())


def test_committed_sample_is_a_full_day_of_a_million_quotes(committed: pd.DataFrame) -> None:
    assert len(committed) >= 1_000_000
    funds = set(committed["symbol"]) - {"SPY", "QQQ", "IWM"}
    assert len(funds) >= 8
    ts = pd.to_datetime(committed["ts"], unit="ns", utc=True).dt.tz_convert("America/New_York")
    assert ts.dt.date.nunique() == 1 and ts.iloc[0].date() == SAMPLE_DAY
    assert ts.iloc[0].strftime("%H:%M") == "09:30" and ts.iloc[-1].strftime("%H:%M") == "15:59"
    assert (np.diff(committed["ts"].to_numpy()) >= 0).all()


def test_sample_rebuilds_identically_from_its_bars(
    universe: Universe, committed: pd.DataFrame
) -> None:
    rebuilt = build_sample_session(universe)
    assert len(rebuilt) == len(committed)
    for col in ("ts", "bid", "ask", "bid_size", "ask_size"):
        assert np.array_equal(rebuilt[col].to_numpy(), committed[col].to_numpy()), col
    assert (
        rebuilt["symbol"].astype(str).to_numpy() == committed["symbol"].astype(str).to_numpy()
    ).all()


def test_benchmark_quotes_follow_the_real_bars(committed: pd.DataFrame) -> None:
    bars = load_bars(sample_dir() / "bars" / "SPY.csv", SAMPLE_DAY)
    spy = committed[committed["symbol"] == "SPY"]
    mid = (spy["bid"] + spy["ask"]) / 2
    good = spy["bid"] > 0
    assert mid[good].min() >= bars["Low"].min() - 0.02
    assert mid[good].max() <= bars["High"].max() + 0.02
    assert mid[good].iloc[-1] == pytest.approx(bars["Close"].iloc[-1], abs=0.05)


def test_synthetic_option_follows_the_daily_reset_relation(universe: Universe) -> None:
    synthetic = build_sample_session(universe, synthetic=True)
    ref = reference_for(SAMPLE_DAY, universe.symbols)
    spy = synthetic[(synthetic["symbol"] == "SPY") & (synthetic["bid"] > 0)]
    spxu = synthetic[(synthetic["symbol"] == "SPXU") & (synthetic["bid"] > 0)]
    spy_mid = np.interp(spxu["ts"], spy["ts"], (spy["bid"] + spy["ask"]) / 2)
    # fair value with the carry accrued since the prior close: (1 − L)·r − ER = 4 × 1.55 % − ER
    carry = carry_rate(-3.0, 0.0155, 0.0, universe.fund("SPXU").expense_ratio)
    accrual = (spxu["ts"].to_numpy() - ref.prior_strike_ns) / YEAR_NS
    move = spy_mid / ref.prior_close["SPY"] - 1
    implied = ref.prior_nav["SPXU"] * (1 - 3 * move + carry * accrual)
    prem_bp = ((spxu["bid"] + spxu["ask"]) / 2 / implied - 1) * 1e4
    assert abs(prem_bp.mean()) < 1  # no drift away from the relation
    assert 3 < prem_bp.std() < 15  # a few bp of premium noise plus tick rounding


def test_same_seed_same_stream_other_seed_other_stream(universe: Universe) -> None:
    ref = reference_for(SAMPLE_DAY, universe.symbols)
    funds = [universe.fund("SH")]
    args = dict(
        day=SAMPLE_DAY,
        bars_dir=sample_dir() / "bars",
        benchmarks=["SPY"],
        funds=funds,
        prior_close=ref.prior_close,
        prior_nav=ref.prior_nav,
    )
    a = generate_session(seed=1, **args)  # type: ignore[arg-type]
    b = generate_session(seed=1, **args)  # type: ignore[arg-type]
    c = generate_session(seed=2, **args)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(a, b)
    assert len(a) != len(c) or not np.array_equal(a["bid"], c["bid"])


def test_bars_for_a_day_without_data_are_refused() -> None:
    with pytest.raises(DataError, match="fewer than 50%"):
        load_bars(sample_dir() / "bars" / "SH.csv", date(2019, 12, 12))
    with pytest.raises(DataError, match="not an XNYS session"):
        load_bars(sample_dir() / "bars" / "SH.csv", date(2019, 12, 25))
