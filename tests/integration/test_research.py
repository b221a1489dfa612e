"""`inavd backtest` / `inavd sweep` end to end on short real-data sessions: serial, a local Dask
cluster and a real external scheduler give the same rows byte for byte; a failed day is reported
and the others complete; a sweep applies each grid point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.kit.paths import DEFAULT_CONFIG
from tests.kit.research import shifted, write_short_days

from inavd.cli import main
from inavd.feeds.columns import read_quote_table, select_day, write_quote_table
from inavd.research.output import row_json

pytestmark = pytest.mark.slow
DAYS = ["2019-12-18", "2019-12-19", "2019-12-21"]  # two real sessions and a Saturday


@pytest.fixture(scope="module")
def day_files(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`--days` naming the closing half hour of two real days, and the 19th's quotes moved to
    Saturday the 21st, which is no exchange session: that day must fail on its own."""
    folder = tmp_path_factory.mktemp("days")
    short = write_short_days(folder / "short.parquet")
    weekend = folder / "weekend.parquet"
    quotes = read_quote_table(short)
    write_quote_table(weekend, shifted(select_day(quotes, date(2019, 12, 19)), 2))
    return f"{short},{weekend}"


def backtest(out: Path, days: str, *where: str) -> dict[str, Any]:
    args = ["backtest", "--config", str(DEFAULT_CONFIG), "--days", days, "--out", str(out)]
    assert main([*args, *where]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


@pytest.fixture(scope="module")
def serial(day_files: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("serial")
    return out, backtest(out, day_files, "--serial")


def test_failed_day_is_reported_and_the_others_complete(
    serial: tuple[Path, dict[str, Any]],
) -> None:
    out, summary = serial
    rows = {r["day"]: r for r in summary["days"]}
    assert list(rows) == DAYS
    assert "is not an exchange session" in rows["2019-12-21"]["error"]
    for day in DAYS[:2]:
        row = rows[day]
        assert "error" not in row and row["orders"] > 0 and row["fills"] > 0
        pnl = row["pnl"]
        # after costs: total = realized + unrealized − fees; strategies add up to the total
        assert pnl["total"] == pytest.approx(
            pnl["realized"] + pnl["unrealized"] - pnl["fees"], abs=0.02
        )
        assert sum(pnl["by_strategy"].values()) == pytest.approx(pnl["total"], abs=0.05)
        assert row["turnover"] > 0 and row["max_drawdown"] >= 0
    total = summary["total"]
    assert (total["days"], total["failed"]) == (2, 1)
    assert total["pnl"] == pytest.approx(sum(rows[d]["pnl"]["total"] for d in DAYS[:2]), abs=0.01)
    table = pd.read_parquet(out / "days.parquet")
    assert list(table["day"]) == DAYS
    assert table["pnl_total"].iloc[:2].tolist() == [rows[d]["pnl"]["total"] for d in DAYS[:2]]
    assert table["error"].isna().tolist() == [True, True, False]
    page = (out / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == 3 and "<img src='http" not in page


def test_local_cluster_rows_identical_to_serial(
    serial: tuple[Path, dict[str, Any]], day_files: str, tmp_path: Path
) -> None:
    out, summary = serial
    on_cluster = backtest(tmp_path / "cluster", day_files, "--workers", "2")
    assert [row_json(r) for r in on_cluster["days"]] == [row_json(r) for r in summary["days"]]
    # the whole summary, not only the rows: same command, same answer, whatever ran it
    assert (tmp_path / "cluster" / "summary.json").read_bytes() == (
        out / "summary.json"
    ).read_bytes()


def _worker_settings() -> dict[str, Any]:
    import dask
    import pyarrow

    return {
        "trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "arrow_threads": pyarrow.cpu_count(),
        "profiler": dask.config.get("distributed.worker.profile.enabled"),
    }


def test_local_cluster_workers_run_one_thread_without_trim_or_profiler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inavd.research.runner import Target, connect

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)  # a nanny may have set it here
    with connect(Target(workers=1)) as client:
        (seen,) = client.run(_worker_settings).values()
    assert seen == {"trim": None, "omp": "1", "arrow_threads": 1, "profiler": False}


def test_external_scheduler_rows_identical_to_serial(
    serial: tuple[Path, dict[str, Any]], day_files: str, tmp_path: Path
) -> None:
    dask = str(Path(sys.executable).parent / "dask")
    file = tmp_path / "scheduler.json"
    procs = [_start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(file)], tmp_path)]  # fmt: skip
    try:
        address = _wait_for_address(file)
        worker = [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-nanny",
                  "--no-dashboard", "--host", "127.0.0.1"]  # fmt: skip
        procs.append(_start(worker, tmp_path))
        summary = backtest(tmp_path / "ext", day_files, "--scheduler", address)
    finally:
        for proc in reversed(procs):
            _stop(proc)
    assert [row_json(r) for r in summary["days"]] == [row_json(r) for r in serial[1]["days"]]


def test_sweep_over_three_values(
    serial: tuple[Path, dict[str, Any]], day_files: str, tmp_path: Path
) -> None:
    short = day_files.split(",")[0]
    out = tmp_path / "sweep"
    key = "strategies.premium_reversion.entry_bp"
    args = ["sweep", "--config", str(DEFAULT_CONFIG), "--grid", f"{key}=5,10,20",
            "--days", f"{short}@2019-12-19", "--serial", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    results = pd.read_parquet(out / "results.parquet")
    assert results[key].tolist() == [5.0, 10.0, 20.0]
    per = pd.read_csv(out / "summary.csv")
    assert per[key].tolist() == [5, 10, 20]
    assert per["pnl_total"].tolist() == results["pnl_total"].tolist()
    # the default point (entry 10 bp) is the plain backtest's day, to the byte
    plain = next(r for r in serial[1]["days"] if r["day"] == "2019-12-19")
    mid = results.iloc[1]
    assert mid["pnl_total"] == plain["pnl"]["total"] and mid["orders"] == plain["orders"]
    # entering at 5 bp instead of 20 bp trades premium reversion more, not less
    premrev = [json.loads(s).get("premrev", 0.0) for s in results["pnl_by_strategy"]]
    assert results["orders"].iloc[0] > results["orders"].iloc[2]
    assert premrev[0] != premrev[2]
    assert not (out / "heatmap.png").exists()  # one key: no heatmap


def _start(cmd: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _wait_for_address(file: Path, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if file.exists():
            try:
                return str(json.loads(file.read_text())["address"])
            except (json.JSONDecodeError, KeyError):
                pass  # written but not complete yet
        time.sleep(0.1)
    raise AssertionError("dask scheduler did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """The whole process group (a worker may have children), politely, then for sure."""
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            continue


def test_a_backtest_day_is_what_inavd_replay_gives(
    serial: tuple[Path, dict[str, Any]], day_files: str, tmp_path: Path
) -> None:
    """Same code path, same answer: the day's row against `inavd replay` of the same file."""
    short = day_files.split(",")[0]
    cfg = tmp_path / "day.toml"
    cfg.write_text(f'[run]\ndata_dir = "{tmp_path / "var"}"\n[feed]\nsession = 2019-12-19\n')
    out = tmp_path / "summary.json"
    args = ["replay", "--config", str(cfg), "--input", short, "--quiet", "--summary-json", str(out)]
    assert main(args) == 0
    run = json.loads(out.read_text())
    row = next(r for r in serial[1]["days"] if r["day"] == "2019-12-19")
    assert (row["orders"], row["fills"]) == (run["orders"], run["fills"])
    assert row["turnover"] == run["turnover"]
    assert row["pnl"]["total"] == run["pnl"]["total"]
    assert row["pnl"]["fees"] == run["pnl"]["fees"]
    by = {s: v["total"] for s, v in run["pnl"]["by_strategy"].items()}
    assert row["pnl"]["by_strategy"] == by
