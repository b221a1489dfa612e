"""Research runner: days per minute serially and on a 2-worker local Dask cluster over the same
real days, the per-task overhead (a near-empty day) and where it goes, and peak memory per worker.

Days: `--days N` bundled real days (default 16, spread evenly over every bundled day), named as
`inavd backtest --days` names them (`day:YYYY-MM-DD`: quotes built from the bundled bars; the
committed 2019-12-19 session as `sample`). Each mode runs them twice: *cold*, into an empty
sessions folder (each day built from its bars, then replayed), and *warm*, on the folder the cold
run filled (replay only: what every further setting of a sweep costs). The cluster is the
runner's own (`inavd.research.runner.connect`); its start is timed apart from the days, and its
workers have run one near-empty task each before the clock starts, as the serial process has.
Beside wall time, the CPU time of every process taking part: on a shared box it still says what
two free cores would give (2 × serial CPU ÷ cluster CPU). Peak memory per worker is VmHWM read
inside each worker. Run: `.venv/bin/python -m bench.bench_research [--days 16] [--rounds 3]`;
`--days 88 --rounds 1` (every bundled day, about 4 minutes) makes the last task's tail negligible.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import logging
import os
import pstats
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

from bench.common import machine
from inavd.arrow_memory import prefer_returning_pool
from inavd.feeds.columns import write_quote_table
from inavd.feeds.sample import SAMPLE_DAY, sample_session_path
from inavd.research.days import BUNDLED, DaySource, bundled_days
from inavd.research.runner import Target, connect, run_all
from inavd.research.task import DayTask, run_task
from inavd.settings import load_config

# Where a near-empty day's time goes: cumulative time of these functions (file, function name).
PHASES = (
    ("research/grid.py", "apply_overrides", "config: the task's overrides validated"),
    ("app.py", "_build_market", "universe, book, feed, session"),
    ("app.py", "_build_pricing", "reference prices, corporate actions"),
    ("execution/journal.py", "__init__", "journal opened / created"),
    ("app.py", "_build_core", "signals (GARCH fit on daily closes)"),
    ("research/task.py", "day_collector", "gc: freeze before, collect the day after"),
    ("app.py", "_run_feed", "the 200 quotes, close, summary"),
    ("lifecycle.py", "shutdown", "shutdown"),
)


def pick_days(n: int) -> list[DaySource]:
    known = sorted(bundled_days(load_config()).items())
    step = len(known) / min(n, len(known))
    return [DaySource(*known[int(i * step)]) for i in range(min(n, len(known)))]


def near_empty(folder: Path) -> DaySource:
    """The bundled day's first 200 quotes: everything a task does except replaying a day."""
    df = pd.read_parquet(sample_session_path()).head(200)
    path = folder / "near-empty.parquet"
    write_quote_table(path, df)
    return DaySource(SAMPLE_DAY, str(path))


def tasks_for(days: list[DaySource], folder: Path, sessions: Path | None = None) -> list[DayTask]:
    cfg = load_config()
    shared = str(sessions) if sessions else None
    return [
        DayTask(f"t{i}", cfg, d, str(folder / f"t{i}"), sessions_dir=shared)
        for i, d in enumerate(days)
    ]


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def checked(rows: list[dict[str, Any]]) -> None:
    failed = [r for r in rows if "error" in r]
    assert not failed, failed


def tree_cpu() -> float:
    """CPU seconds of this process and its children (the cluster's workers), so far."""
    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def days_twice(
    days: list[DaySource], folder: Path, run: Callable[[list[DayTask]], Any]
) -> dict[str, float]:
    """Cold (empty sessions folder) then warm (the same folder, now filled): wall seconds and
    CPU seconds of every process taking part (the box is shared: CPU time says what the work
    costs even when two cores are not free)."""
    sessions = folder / "sessions"
    out = {}
    for kind in ("cold", "warm"):
        cpu = tree_cpu()
        out[kind] = timed(lambda k=kind: checked(run(tasks_for(days, folder / k, sessions))))
        out[f"{kind}_cpu"] = tree_cpu() - cpu
    return out


def serial_round(days: list[DaySource], empty: DaySource, folder: Path) -> dict[str, float]:
    serial = Target(serial=True)
    run_task(tasks_for([empty], folder / "w")[0])  # imports and per-process caches
    out = days_twice(days, folder, lambda tasks: run_all(tasks, serial))
    default = tasks_for([DaySource(SAMPLE_DAY, BUNDLED)] * 2, folder / "d")
    out["day"] = min(each(default, run_task))
    out["empty"] = statistics.median(each(tasks_for([empty] * 7, folder / "e"), run_task))
    return out


def each(tasks: list[DayTask], call: Callable[[DayTask], Any]) -> list[float]:
    """Seconds of each task, one after the other."""
    out = []
    for task in tasks:
        t0 = time.perf_counter()
        call(task)
        out.append(time.perf_counter() - t0)
    return out


def cluster_round(days: list[DaySource], empty: DaySource, folder: Path) -> dict[str, Any]:
    logging.getLogger("distributed").setLevel(logging.ERROR)  # a serial task set the root's
    t0 = time.perf_counter()
    with connect(Target(workers=2)) as client:
        client.wait_for_workers(2)
        start = time.perf_counter() - t0
        warm = tasks_for([empty] * 2, folder / "w")
        addresses = sorted(client.scheduler_info()["workers"])
        client.gather([client.submit(run_task, t, workers=[a], pure=False)
                       for t, a in zip(warm, addresses, strict=True)])  # fmt: skip
        out: dict[str, Any] = days_twice(days, folder, lambda ts: run_all(ts, Target(), client))
        empties = tasks_for([empty] * 9, folder / "e")
        out["empty"] = statistics.median(
            each(empties, lambda t: client.submit(run_task, t, pure=False).result())
        )
        batch = tasks_for([empty] * 20, folder / "b")  # queued on one worker, back to back
        one = [addresses[0]]
        out["empty_batch"] = timed(
            lambda: client.gather(client.map(run_task, batch, workers=one, pure=False))
        ) / len(batch)
        out["dispatch"] = statistics.median(
            each(empties * 2, lambda _: client.submit(_noop, pure=False).result())
        )
        out["rss_mb"] = sorted(v / 1024 for v in client.run(_peak_kb).values())
    out["start"] = start
    return out


def _noop() -> int:
    return 1


def _peak_kb() -> int:
    """This process's peak RSS: VmHWM where Linux reports it. Not `ru_maxrss`, which Linux
    carries across exec: a worker spawned by this process would report this process's own peak
    (the serial rounds' days) if that is higher."""
    with contextlib.suppress(OSError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def breakdown(empty: DaySource, folder: Path, runs: int = 7) -> list[tuple[str, float]]:
    """Mean cumulative seconds per phase of a near-empty task, in this (warm) process."""
    prof = cProfile.Profile()
    for t in tasks_for([empty] * runs, folder):
        prof.runcall(run_task, t)
    stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[3] for k, v in stats.items() if k[2] == "run_task") / runs
    out = [("whole task (profiled)", total)]
    for file, name, label in PHASES:
        cum = sum(v[3] for k, v in stats.items() if k[0].endswith(file) and k[2] == name)
        out.append((label, cum / runs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    prefer_returning_pool()  # as `inavd backtest` does: the workers inherit it
    days = pick_days(args.days)
    print(machine())
    print(f"load average at start: {os.getloadavg()}")
    print(f"{len(days)} days: {', '.join(d.label for d in days)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        empty = near_empty(root)
        serial, cluster = [], []
        for r in range(args.rounds):
            serial.append(serial_round(days, empty, root / f"s{r}"))
            cluster.append(cluster_round(days, empty, root / f"c{r}"))
            print(f"round {r}: serial {_fmt(serial[-1])}\n         2 workers {_fmt(cluster[-1])}")
        phases = breakdown(empty, root / "profile")
    print(f"load average at end: {os.getloadavg()}")
    report(len(days), serial, cluster, phases)


def _fmt(x: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in x.items())


def report(
    n: int,
    serial: list[dict[str, float]],
    cluster: list[dict[str, Any]],
    phases: list[tuple[str, float]],
) -> None:
    def med(rounds: list[dict[str, Any]], key: str) -> float:
        return statistics.median(x[key] for x in rounds)

    for kind in ("cold", "warm"):
        s, c = med(serial, kind), med(cluster, kind)
        print(
            f"{kind}: serial {n / s * 60:.1f} days/min ({s:.2f} s for {n} days); 2 workers "
            f"{n / c * 60:.1f} days/min ({c:.2f} s) = {s / c:.2f} × serial"
        )
        s, c = med(serial, f"{kind}_cpu"), med(cluster, f"{kind}_cpu")
        print(
            f"  CPU of all processes: serial {s:.2f} s, cluster {c:.2f} s: on two free cores "
            f"at most {2 * s / c:.2f} × serial"
        )
    print(f"cluster start (2 workers, not counted above): {med(cluster, 'start'):.2f} s")
    day = med(serial, "day")
    print(f"one default day (2019-12-19, in process, warm): {day:.3f} s")
    for label, x in (
        ("Dask dispatch of an empty task", med(cluster, "dispatch")),
        ("near-empty day in process", med(serial, "empty")),
        ("near-empty day through Dask, one at a time", med(cluster, "empty")),
        ("near-empty days through Dask, 20 queued on one worker (wall / 20)",
         med(cluster, "empty_batch")),
    ):  # fmt: skip
        print(f"{label}: {x * 1000:.1f} ms = {100 * x / day:.1f} % of a default day")
    print("near-empty day in process, profiled (mean ms; the profiler inflates):")
    for label, x in phases:
        print(f"  {label:<40} {x * 1000:7.1f}")
    rss = max(max(x["rss_mb"]) for x in cluster)
    print(f"peak RSS per worker (VmHWM): {rss:.0f} MB (every round: "
          f"{[[round(v) for v in x['rss_mb']] for x in cluster]})")  # fmt: skip


if __name__ == "__main__":
    main()
