"""Research building blocks with worked numbers: totals over days, drawdown, grid parsing and
validation, day selection; bad input refused with one line before anything runs."""

from __future__ import annotations

import io
import math
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from tests.kit.paths import DEFAULT_CONFIG

from inavd.bus import Bus
from inavd.cli import main
from inavd.domain.events import InavEvaluated
from inavd.domain.ledger import Ledger
from inavd.domain.orders import Fill, Side
from inavd.errors import ConfigError
from inavd.research.days import BUNDLED, DaySource, resolve_days
from inavd.research.grid import apply_overrides, grid_points, parse_grid, split_values
from inavd.research.metrics import DayWatch, max_drawdown
from inavd.research.output import write_sweep
from inavd.research.runner import Progress
from inavd.research.totals import totals
from inavd.settings import Config


def _row(day: str, total: float) -> dict[str, object]:
    return {"day": day, "pnl": {"total": total}}


def test_totals_worked_example() -> None:
    rows = [_row("d1", 100.0), _row("d2", -50.0), _row("d3", 30.0), {"day": "d4", "error": "x"}]
    t = totals(rows)
    mean = 80.0 / 3  # 26.667
    sd = math.sqrt(((100 - mean) ** 2 + (-50 - mean) ** 2 + (30 - mean) ** 2) / 2)  # 75.055
    downside = math.sqrt(50.0**2 / 3)  # 28.868: losses only, over all days
    assert t["pnl"] == 80.0
    assert t["sharpe"] == pytest.approx(mean / sd * math.sqrt(252), abs=1e-4)
    assert t["sharpe"] == pytest.approx(5.6403, abs=1e-3)
    assert t["sortino"] == pytest.approx(mean / downside * math.sqrt(252), abs=1e-4)  # 14.664
    assert t["max_drawdown"] == 50.0  # cumulative 100 → 50 → 80
    assert t["hit_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert (t["days"], t["failed"]) == (3, 1)


def test_totals_undefined_ratios_are_none() -> None:
    assert totals([_row("d1", 10.0)])["sharpe"] is None  # one day: no dispersion
    flat = totals([_row("d1", 5.0), _row("d2", 5.0)])
    assert flat["sharpe"] is None and flat["sortino"] is None  # no variation, no losing day
    assert totals([])["hit_rate"] is None


def test_max_drawdown_starts_from_flat() -> None:
    assert max_drawdown(np.array([1.0, 3.0, -2.0, 0.0])) == 5.0  # peak 3 → trough −2
    assert max_drawdown(np.array([-4.0, -1.0])) == 4.0  # below the starting 0 counts
    assert max_drawdown(np.array([], dtype=np.float64)) == 0.0


def test_grid_values_parse_as_toml() -> None:
    assert split_values('1, 2.5,"a,b",[1, 2]') == ["1", "2.5", '"a,b"', "[1, 2]"]
    grid = parse_grid(["a.x=1,2", "b.y=true,paper"])
    assert grid == [("a.x", [1, 2]), ("b.y", [True, "paper"])]
    assert grid_points(grid) == [
        {"a.x": 1, "b.y": True}, {"a.x": 1, "b.y": "paper"},
        {"a.x": 2, "b.y": True}, {"a.x": 2, "b.y": "paper"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    "spec", ["novalue", "=1,2", "a.b=", "a.b=1,,2", "run.data_dir=x", "feed.path=f.csv"]
)
def test_grid_refuses_malformed_or_reserved(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_grid([spec])


def test_overrides_validated_by_the_config_model(default_config: Config) -> None:
    cfg = apply_overrides(default_config, {"strategies.premium_arb.threshold_bp": 5})
    assert cfg.settings.strategies.premium_arb.threshold_bp == 5.0
    assert cfg.settings.inav == default_config.settings.inav  # the rest untouched
    cases = {
        "strategies.premium_arb.thresold_bp": "strategies.premium_arb.thresold_bp: unknown key",
        "inav.interval_s": "inav.interval_s: Input should be greater than 0",
    }
    for key, message in cases.items():
        with pytest.raises(ConfigError, match=message):
            apply_overrides(default_config, {key: -1})


def test_sweep_refuses_a_bad_point_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["sweep", "--config", str(DEFAULT_CONFIG), "--serial", "--out", str(out),
                 "--grid", "inav.interval_s=15,0"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err == "inavd: error: --grid: inav.interval_s: Input should be greater than 0"
    assert not out.exists()  # nothing ran, nothing written


def test_days_selection(default_config: Config, tmp_path: Path) -> None:
    bundled = resolve_days(default_config, None)
    assert bundled == resolve_days(default_config, "all") and len(bundled) > 50
    assert bundled[:3] == [
        DaySource(date(2019, 12, 18), "day:2019-12-18"),
        DaySource(date(2019, 12, 19), BUNDLED),  # the committed session, as `inavd run` names it
        DaySource(date(2019, 12, 20), "day:2019-12-20"),
    ]
    assert resolve_days(default_config, "2019-12-19,2019-12-18") == bundled[1::-1]
    december = resolve_days(default_config, None, end=date(2019, 12, 31))
    assert [d.day.day for d in december] == sorted(d.day.day for d in december)
    assert all(d.day.month == 12 for d in december)
    with pytest.raises(ConfigError, match="2019-12-21 is not an available day"):
        resolve_days(default_config, "2019-12-21")  # a Saturday
    with pytest.raises(ConfigError, match="no session selected"):
        resolve_days(default_config, "all", start=date(2020, 1, 1), end=date(2024, 12, 31))
    csv = tmp_path / "q.csv"
    ts = pd.to_datetime(["2019-12-18 15:00", "2019-12-19 15:00"]).tz_localize("America/New_York")
    frame = {"ts": ts.tz_convert("UTC").as_unit("ns").astype("int64"), "symbol": ["SH", "SH"]}
    pd.DataFrame({**frame, "bid": 1.0, "ask": 1.1, "bid_size": 1, "ask_size": 1}).to_csv(csv)
    both = resolve_days(default_config, str(csv))
    assert [d.day for d in both] == [date(2019, 12, 18), date(2019, 12, 19)]
    assert resolve_days(default_config, f"{csv}@2019-12-19") == both[1:]
    assert resolve_days(default_config, str(csv), end=date(2019, 12, 18)) == both[:1]
    with pytest.raises(ConfigError, match="has no session"):
        resolve_days(default_config, f"{csv}@2019-12-20")


def test_sweep_tables_and_heatmap_for_two_keys(tmp_path: Path) -> None:
    grid = parse_grid(["a.x=1,2", "b.y=5,10,20"])
    points = grid_points(grid)
    rows = [
        {"day": d, "setting": p, "orders": 1, "fills": 1, "turnover": 1.0, "max_drawdown": 0.0,
         "pnl": {"realized": 0.0, "unrealized": 0.0, "fees": 0.0, "by_strategy": {},
                 "total": 10.0 * i + (d == "2019-12-19")}}
        for i, p in enumerate(points) for d in ("2019-12-18", "2019-12-19")
    ]  # fmt: skip
    per = write_sweep(tmp_path, grid, points, rows)
    assert per["pnl_total"].tolist() == [1.0, 21.0, 41.0, 61.0, 81.0, 101.0]
    assert per["a.x"].tolist() == [1, 1, 1, 2, 2, 2] and per["b.y"].tolist() == [5, 10, 20] * 2
    results = pd.read_parquet(tmp_path / "results.parquet")
    assert len(results) == 12 and results["setting"].tolist() == [i // 2 for i in range(12)]
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only() -> None:
    term, pipe = _Terminal(), io.StringIO()
    for stream in (term, pipe):
        bar = Progress(2, stream)
        bar.advance({"day": "d1"})
        bar.advance({"day": "d2", "error": "boom"})
    assert term.getvalue().endswith(f"\r[{'#' * 30}] 2/2 tasks, 1 failed\n")
    assert f"\r[{'#' * 15}{'.' * 15}] 1/2 tasks" in term.getvalue()
    assert pipe.getvalue() == ""  # not a terminal: quiet


def test_day_watch_drawdown_after_costs_and_premium_bins() -> None:
    """Bought 100 SH at 10.00 with a 1 USD fee: marked at 10.50 the day is +49 (peak), at 9.80
    it is −21, a 70 USD drawdown; premiums land in fixed 2.5 bp bins, outliers in the end bins."""
    bus = Bus()
    book = SimpleNamespace(index={"SH": 0}, mid=np.array([10.5]))
    ledger = Ledger()
    ledger.apply(Fill(1, "c1", "", "SH", Side.BUY, 100.0, 10.0, "e1", 1.0))
    app = SimpleNamespace(bus=bus, book=book, router=SimpleNamespace(ledger=ledger))
    watch = DayWatch()
    watch.attach(app)  # type: ignore[arg-type]

    def evaluate(mid: float, premiums: list[float]) -> None:
        book.mid = np.array([mid])
        prem = np.array(premiums)
        nan = np.full(len(premiums), np.nan)
        bus.publish(InavEvaluated(0, tuple("X" * len(premiums)), nan, nan, prem, nan, nan))

    evaluate(10.5, [-60.0, -47.5, 0.0])
    assert (watch.peak, watch.drawdown) == (pytest.approx(49.0), 0.0)
    evaluate(9.8, [49.0, float("nan")])
    assert watch.drawdown == pytest.approx(70.0)
    expected = np.zeros(40, dtype=np.int64)
    expected[[0, 1, 20, 39]] = 1  # −60 → first bin, −47.5 → second, 0 → [0, 2.5), 49 → last
    assert watch.hist.tolist() == expected.tolist()
