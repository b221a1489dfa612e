"""Research runner: days per minute serially and on a 2-worker local Dask cluster, the per-task
overhead (a near-empty day), and peak memory per worker.

Days: real sessions rebuilt from the bundled 1-minute bars (2019-12-18, 12-20 and 12-23) plus the
bundled 2019-12-19 — the same days in both modes. Run: `.venv/bin/python -m bench.bench_research`.
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import machine
from inavd.feeds.columns import write_quote_table
from inavd.feeds.sample import build_sample_session
from inavd.research.days import BUNDLED, DaySource
from inavd.research.runner import Target, run_all
from inavd.research.task import DayTask, run_task
from inavd.settings import load_config
from inavd.universe import build_universe

BUILT_DAYS = (date(2019, 12, 18), date(2019, 12, 20), date(2019, 12, 23))


def build_days(folder: Path) -> list[DaySource]:
    universe = build_universe(load_config().universe)
    out = [DaySource(date(2019, 12, 19), BUNDLED)]
    for day in BUILT_DAYS:
        path = folder / f"{day}.parquet"
        write_quote_table(path, build_sample_session(universe, day, int(day.strftime("%Y%m%d"))))
        out.append(DaySource(day, str(path)))
    return out


def near_empty(folder: Path) -> DaySource:
    """The bundled day's first 200 quotes: everything a task does except replaying a day."""
    from inavd.feeds.sample import sample_session_path

    df = pd.read_parquet(sample_session_path()).head(200)
    path = folder / "near-empty.parquet"
    write_quote_table(path, df)
    return DaySource(date(2019, 12, 19), str(path))


def tasks_for(days: list[DaySource], folder: Path, tag: str) -> list[DayTask]:
    cfg = load_config()
    return [DayTask(f"{tag}{i}", cfg, d, str(folder / f"{tag}{i}")) for i, d in enumerate(days)]


def timed(tasks: list[DayTask], target: Target) -> tuple[float, list[dict[str, Any]]]:
    t0 = time.perf_counter()
    rows = run_all(tasks, target)
    return time.perf_counter() - t0, rows


def cluster_round(tasks: list[DayTask], empties: list[DayTask]) -> dict[str, float]:
    """One warm 2-worker cluster: the days, then near-empty tasks one at a time (overhead)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.submit(run_task, empties[0], pure=False).result()  # imports, warm caches
        t0 = time.perf_counter()
        futures = client.map(run_task, tasks, pure=False)
        rows = client.gather(futures)
        wall = time.perf_counter() - t0
        assert all("error" not in r for r in rows), rows
        empty = [_timed_call(lambda t=t: client.submit(run_task, t, pure=False).result())
                 for t in empties[1:]]  # fmt: skip
        noop = [_timed_call(lambda: client.submit(_noop, pure=False).result()) for _ in range(20)]
        rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {
        "wall": wall,
        "empty": statistics.median(empty),
        "dispatch": statistics.median(noop),
        "rss_mb": max(rss.values()) / 1024,
    }


def _noop() -> int:
    return 1


def _timed_call(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def serial_round(tasks: list[DayTask], empties: list[DayTask]) -> dict[str, float]:
    run_task(tasks[0])  # warm: imports and caches, as a cluster worker would be after its first
    wall, rows = timed(tasks, Target(serial=True))
    assert all("error" not in r for r in rows), rows
    one = [_timed_call(lambda t=t: run_task(t)) for t in tasks[:2]]
    empty = [_timed_call(lambda t=t: run_task(t)) for t in empties]
    return {"wall": wall, "day": statistics.median(one), "empty": statistics.median(empty)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        days = build_days(folder)
        empty = near_empty(folder)
        print(machine())
        print(f"{len(days)} days: {', '.join(d.label for d in days)}")
        serial, cluster = [], []
        for r in range(args.rounds):
            empties = tasks_for([empty] * 6, folder / f"e{r}", "e")
            serial.append(serial_round(tasks_for(days, folder / f"s{r}", "d"), empties[:3]))
            cluster.append(cluster_round(tasks_for(days, folder / f"c{r}", "d"), empties))
            print(f"round {r}: serial {serial[-1]}, 2 workers {cluster[-1]}")
        report(len(days), serial, cluster)


def report(n: int, serial: list[dict[str, float]], cluster: list[dict[str, float]]) -> None:
    s_wall = statistics.median(x["wall"] for x in serial)
    c_wall = statistics.median(x["wall"] for x in cluster)
    day = statistics.median(x["day"] for x in serial)
    rss = max(x["rss_mb"] for x in cluster)
    print(f"serial: {n / s_wall * 60:.2f} days/min ({s_wall:.1f} s for {n} days)")
    print(f"2 workers: {n / c_wall * 60:.2f} days/min ({c_wall:.1f} s), {s_wall / c_wall:.2f} ×")
    print(f"one default day (serial, warm): {day:.2f} s")
    for label, x in (
        ("Dask dispatch of an empty task", statistics.median(c["dispatch"] for c in cluster)),
        ("near-empty day in process", statistics.median(x["empty"] for x in serial)),
        ("near-empty day through Dask", statistics.median(c["empty"] for c in cluster)),
    ):
        print(f"{label}: {x * 1000:.0f} ms = {100 * x / day:.1f} % of a day")
    print(f"peak RSS per worker: {rss:.0f} MB")


if __name__ == "__main__":
    main()
