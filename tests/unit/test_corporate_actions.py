"""Corporate actions in the start-of-day reference: the SPY 2019-12-20 worked example."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import msgspec
import pandas as pd
import pytest
from tests.kit.premiums import bars_as_quotes, minute_premiums

from inavd.corporate_actions import apply_actions, bundled_actions, read_actions
from inavd.corporate_actions_live import cash_from_payload
from inavd.domain.instruments import Universe
from inavd.errors import DataError
from inavd.feeds.sample import reference_for, sample_dir

EX_DAY = date(2019, 12, 20)  # SPY ex-dividend 1.57 USD, DIA 0.866


def _real_bars(sym: str, day: date) -> pd.DataFrame:
    raw = pd.read_csv(sample_dir() / "bars" / f"{sym}.csv")
    ts = pd.to_datetime(raw["Datetime"], utc=True).dt.tz_convert("America/New_York")
    raw.index = pd.DatetimeIndex(ts)
    raw = raw[~raw.index.duplicated()]
    return raw[raw.index.date == day]


def test_bundled_file_has_the_real_ex_dates() -> None:
    acts = bundled_actions()
    assert acts.on(EX_DAY, ["SPY", "DIA", "QQQ", "SH"]) == {"SPY": 1.57, "DIA": 0.866}
    assert acts.on(date(2019, 12, 24), ["SH", "PSQ"]) == {"SH": 0.0869, "PSQ": 0.0819}
    assert acts.on(date(2019, 12, 23), ["QQQ", "TZA"]) == {"QQQ": 0.4577, "TZA": 0.09}


def test_spy_dividend_lowers_the_prior_close_and_is_recorded(universe: Universe) -> None:
    raw = reference_for(EX_DAY, universe.symbols)
    ref = apply_actions(
        raw, bundled_actions().on(EX_DAY, universe.symbols), universe.benchmarks, EX_DAY
    )
    assert raw.prior_close["SPY"] == pytest.approx(320.90)  # 2019-12-19 close
    assert ref.prior_close["SPY"] == pytest.approx(320.90 - 1.57)
    assert ref.prior_nav == raw.prior_nav  # no fund distribution that day
    assert [a.symbol for a in ref.adjustments] == ["DIA", "SPY"]
    adj = ref.adjustments[1]
    assert adj.as_dict() == {
        "symbol": "SPY", "kind": "dividend", "ex_date": "2019-12-20", "cash_amount": 1.57,
        "field": "prior_close", "before": 320.9, "after": 319.33,
    }  # fmt: skip


def test_fund_distribution_lowers_the_prior_nav_not_the_prior_close() -> None:
    raw = reference_for(date(2019, 12, 24), ("SPY", "SH"))
    ref = apply_actions(raw, {"SH": 0.0869}, ["SPY"], date(2019, 12, 24))
    assert ref.prior_nav["SH"] == pytest.approx(raw.prior_close["SH"] - 0.0869)
    assert ref.prior_close["SH"] == raw.prior_close["SH"]
    assert ref.adjustments[0].kind == "distribution"


def test_real_bars_of_the_ex_date_show_no_dividend_premium(universe: Universe) -> None:
    """Fund 1-minute closes against the iNAV from SPY's 1-minute closes, 2019-12-20: with the
    raw prior close the S&P funds show L × 1.57 / 320.90 ≈ L × 49 bp; adjusted, a few bp."""
    # daily-reset pricing (the bundled SH basket is struck on 12-18, stale on 12-20)
    spx = [
        msgspec.structs.replace(f, holdings=None)
        for f in universe.funds
        if f.symbol in ("SH", "SDS", "SPXU", "SSO", "UPRO")
    ]
    u = Universe(("SPY",), tuple(spx))
    quotes = bars_as_quotes({s: _real_bars(s, EX_DAY) for s in u.symbols})
    raw = reference_for(EX_DAY, u.symbols)
    ref = apply_actions(raw, bundled_actions().on(EX_DAY, u.symbols), u.benchmarks, EX_DAY)
    before = minute_premiums(quotes, u, raw).iloc[30:].mean()
    after = minute_premiums(quotes, u, ref).iloc[30:].mean()
    for f in spx:
        assert before[f.symbol] == pytest.approx(f.leverage * 49.0, abs=12), f.symbol
        assert abs(after[f.symbol]) < 8.0, f.symbol


def test_operator_file_errors_name_the_line(tmp_path: Path) -> None:
    p = tmp_path / "ca.csv"
    p.write_text("ex_date,symbol,cash_amount\n2019-12-20,SPY,1.57\n2019-13-01,SPY,1\n")
    with pytest.raises(DataError, match=r"ca.csv: line 3: bad ex_date"):
        read_actions(p)
    p.write_text("date,symbol,amount\n")
    with pytest.raises(DataError, match="missing column"):
        read_actions(p)
    p.write_text("ex_date,symbol,cash_amount\n2019-12-20,SPY,1.0\n2019-12-20,SPY,0.57\n")
    assert read_actions(p).on(EX_DAY, ["SPY"]) == {"SPY": pytest.approx(1.57)}


def test_alpaca_payload_keeps_cash_dividends_of_the_day() -> None:
    payload = {
        "cash_dividends": [
            {"symbol": "SPY", "rate": 1.57, "ex_date": "2019-12-20", "special": False},
            {"symbol": "QQQ", "rate": 0.4577, "ex_date": "2019-12-23"},
            {"symbol": "BAD", "rate": "x", "ex_date": "2019-12-20"},
        ],
        "forward_splits": [{"symbol": "SDS", "ex_date": "2019-12-20"}],
    }
    assert cash_from_payload(payload, EX_DAY) == {("SPY", EX_DAY): 1.57}
    assert cash_from_payload(None, EX_DAY) == {}
