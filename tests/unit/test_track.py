"""`inavd track`: both CSV layouts, the DOMAIN.md §5 figures on real data, bad files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from inavd.analysis.track import TrackStats, load_prices, track
from inavd.cli import main
from inavd.errors import DataError

DAILY = Path(__file__).resolve().parents[1] / "fixtures" / "daily"
YAHOO_SH = DAILY / "SH_yahoo_2020-02-14_2020-03-31.csv"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _within_printed(value: float, printed: str) -> bool:
    """`value` rounds to `printed` (e.g. "-0.9910", "+0.51", "-1194"): within half a last digit."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-12


# DOMAIN.md §5, as printed: fund, benchmark, L, days, corr, TD mean/std/robust std (bp),
# fund / ideal / naive cumulative return (%).
DOMAIN_TABLE = [
    ("SH", "SPY", -1, 3644, "-0.9910", "+0.51", "17.12", "6.16", "-83.04", "-85.95", "-291.4"),
    ("SDS", "SPY", -2, 3630, "-0.9952", "+0.80", "25.26", "8.90", "-98.53", "-98.94", "-589.2"),
    ("SPXU", "SPY", -3, 2887, "-0.9977", "+0.27", "22.33", "11.44", "-99.887", "-99.896",
     "-1194"),
    ("PSQ", "QQQ", -1, 3645, "-0.9905", "+0.33", "19.07", "6.66", "-93.62", "-94.35", "-781"),
    ("QID", "QQQ", -2, 3630, "-0.9924", "+0.39", "33.90", "10.74", "-99.835", "-99.860",
     "-1677"),
    ("TZA", "IWM", -3, 3036, "-0.9977", "-1.62", "31.08", "14.59", "-99.994", "-99.991",
     "-1344"),
]


@pytest.mark.parametrize("row", DOMAIN_TABLE, ids=[r[0] for r in DOMAIN_TABLE])
def test_reproduces_domain_table(row: tuple[object, ...]) -> None:
    fund, bench, lev, days, corr, mean, std, robust, fund_cum, ideal, naive = row
    s = track(DAILY / f"{fund}.csv", DAILY / f"{bench}.csv", float(lev)).stats  # type: ignore[arg-type]
    assert s.days == days
    checks = [
        (s.correlation, corr), (s.td_mean_bp, mean), (s.td_std_bp, std),
        (s.td_mad_std_bp, robust), (s.fund_cum_return * 100, fund_cum),
        (s.ideal_cum_return * 100, ideal), (s.naive_cum_return * 100, naive),
    ]
    for value, printed in checks:
        assert _within_printed(value, str(printed)), (value, printed)


@pytest.mark.parametrize(("fund", "lev", "printed"), [("SH", -1, "42.3"), ("SDS", -2, "90.0"),
                                                      ("SPXU", -3, "141.6")])
def test_crash_window_feb19_mar23_2020(fund: str, lev: float, printed: str) -> None:
    """DOMAIN.md §5: trends help inverse funds (Feb 19 – Mar 23 2020)."""
    s = track(DAILY / f"{fund}.csv", DAILY / "SPY.csv", lev, date(2020, 2, 19),
              date(2020, 3, 23)).stats
    assert (s.start, s.end) == ("2020-02-19", "2020-03-23")
    assert _within_printed(s.fund_cum_return * 100, printed)
    assert s.fund_cum_return > s.naive_cum_return  # better than L × the index's fall


def test_alpha_vantage_file_is_sorted_oldest_first() -> None:
    prices = load_prices(DAILY / "SH.csv")
    assert prices.index.is_monotonic_increasing
    assert f"{prices.index[0]:%Y-%m-%d}" == "2006-06-21"
    assert len(prices) == 3645


def test_yahoo_layout_matches_alpha_vantage() -> None:
    yahoo = load_prices(YAHOO_SH)
    alpha = load_prices(DAILY / "SH.csv")
    assert len(yahoo) == 32
    assert np.array_equal(yahoo.to_numpy(), alpha.loc[yahoo.index].to_numpy())
    window = (date(2020, 2, 14), date(2020, 3, 31))
    from_yahoo = track(YAHOO_SH, DAILY / "SPY.csv", -1.0, *window).stats
    from_alpha = track(DAILY / "SH.csv", DAILY / "SPY.csv", -1.0, *window).stats
    assert from_yahoo.to_json() | {"fund": None} == from_alpha.to_json() | {"fund": None}


def test_worst_days_are_the_largest_tracking_differences() -> None:
    s = track(DAILY / "SH.csv", DAILY / "SPY.csv", -1.0).stats
    sizes = [abs(w.td_bp) for w in s.worst_days]
    assert len(sizes) == 5 and sizes == sorted(sizes, reverse=True)
    # the known bad SH print of 2014-10-30 (a known one-day bad print) and its reversal stand out
    assert {"2014-10-30", "2014-10-31"} <= {w.date for w in s.worst_days}
    for w in s.worst_days:
        assert w.td_bp == pytest.approx((w.fund_return + w.benchmark_return) * 1e4)


# ------------------------------------------------------------------------------ synthetic checks
def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _perfect_pair(tmp_path: Path, leverage: float) -> tuple[Path, Path]:
    """A benchmark path and a fund that follows it exactly with daily reset."""
    rng = np.random.default_rng(0)
    bench_ret = rng.normal(0.0, 0.02, 60)
    bench = 100.0 * np.cumprod(np.concatenate(([1.0], 1.0 + bench_ret)))
    fund = 50.0 * np.cumprod(np.concatenate(([1.0], 1.0 + leverage * bench_ret)))
    days = [f"2021-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(61)]
    b = _write(tmp_path / "bench.csv", "Date,Open,Close,Adj Close",
               [f"{d},1,1,{float(p)!r}" for d, p in zip(days, bench, strict=True)])
    f = _write(tmp_path / "fund.csv", "timestamp,close,adjusted_close",
               [f"{d},1,{float(p)!r}" for d, p in reversed(list(zip(days, fund, strict=True)))])
    return f, b


def test_perfect_tracker_has_zero_tracking_difference(tmp_path: Path) -> None:
    fund, bench = _perfect_pair(tmp_path, -2.0)
    s = track(fund, bench, -2.0).stats
    assert s.days == 60
    assert s.correlation == pytest.approx(-1.0)
    assert abs(s.td_mean_bp) < 1e-8 and s.td_std_bp < 1e-8
    assert s.fund_cum_return == pytest.approx(s.ideal_cum_return)
    assert s.naive_cum_return != pytest.approx(s.ideal_cum_return)


def test_yahoo_nulls_and_timezone_suffix(tmp_path: Path) -> None:
    path = _write(tmp_path / "y.csv", "Date,Open,High,Low,Close,Adj Close,Volume", [
        "2020-02-14 00:00:00-05:00,1,1,1,1,10.0,5",
        "2020-02-17 00:00:00-05:00,null,null,null,null,null,null",
        "2020-02-18 00:00:00-05:00,1,1,1,1,10.5,5",
    ])
    prices = load_prices(path)
    assert [f"{d:%Y-%m-%d}" for d in prices.index] == ["2020-02-14", "2020-02-18"]
    assert prices.tolist() == [10.0, 10.5]


# ------------------------------------------------------------------------------------- bad files
BAD_FILES = {
    "missing columns": ("a,b", ["1,2"], "missing columns"),
    "unparsable date": ("Date,Adj Close", ["2020-01-02,10", "02/01/2020,11"], "unparsable date"),
    "unparsable price": ("Date,Adj Close", ["2020-01-02,10", "2020-01-03,ten"],
                         "unparsable Adj Close"),
    "non-positive price": ("timestamp,adjusted_close", ["2020-01-03,0", "2020-01-02,10"],
                           "non-positive price 0 on 2020-01-03"),
    "duplicate date": ("Date,Adj Close", ["2020-01-02,10", "2020-01-02,11"], "duplicate date"),
    "no overlap": ("Date,Adj Close", ["2031-01-02,10", "2031-01-03,11", "2031-01-06,12"],
                   "no common dates"),
    "too short": ("Date,Adj Close", ["2020-01-02,10", "2020-01-03,11"], "need at least 3"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_a_one_line_data_error(tmp_path: Path, case: str) -> None:
    header, rows, problem = BAD_FILES[case]
    path = _write(tmp_path / "bad fund.csv", header, rows)
    with pytest.raises(DataError) as info:
        track(path, DAILY / "SPY.csv", -1.0)
    message = str(info.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_prices(empty)
    with pytest.raises(DataError, match="no such file"):
        load_prices(tmp_path / "absent.csv")


def test_cli_bad_file_exit_2_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "fund.csv", "Date,Close", ["2020-01-02,10"])
    code = main(["track", "--fund", str(path), "--benchmark", str(DAILY / "SPY.csv"), "-L", "-1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("inavd: error: ") and err.count("\n") == 1
    assert "fund.csv" in err and "Adj Close" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------- CLI
def test_cli_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "plots" / "sds.png"
    code = main(["track", "--fund", str(DAILY / "SDS.csv"), "--benchmark", str(DAILY / "SPY.csv"),
                 "--leverage", "-2", "--start", "2018-01-01", "--json", "--plot", str(png)])
    out, _ = capsys.readouterr()
    assert code == 0
    payload = json.loads(out)
    assert list(payload) == list(TrackStats.__slots__)
    assert payload["start"] >= "2018-01-01" and payload["end"] == "2020-12-11"
    assert [set(w) for w in payload["worst_days"]] == [
        {"date", "td_bp", "fund_return", "benchmark_return"}] * 5
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000


def test_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["track", "--fund", str(YAHOO_SH), "--benchmark", str(DAILY / "SPY.csv"),
                 "-L", "-1"])
    out, _ = capsys.readouterr()
    assert code == 0
    s = track(YAHOO_SH, DAILY / "SPY.csv", -1.0).stats
    assert f"correlation           {s.correlation:.4f}" in out
    assert f"({s.days} daily returns)" in out
