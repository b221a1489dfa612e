"""Run research tasks serially, on a local Dask cluster, or on an existing Dask scheduler.

Rows come back in task order whatever order they finish in, so every mode writes the same
files. Dask is imported here only, when a research command runs on a cluster.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from inavd.errors import ConfigError
from inavd.research.task import DayTask, run_task

Row = dict[str, Any]

# Dask's defaults suit many short tasks; a replay task is a second of single-threaded Python
# (docs/research.md, "Worker settings"). Measured on a day of the bundled data:
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    # The nanny's default environment sets one thread per library (OMP_NUM_THREADS=1 also sizes
    # pyarrow's pool: kept) and MALLOC_TRIM_THRESHOLD_, which turns off glibc's adaptive mmap
    # threshold: every large numpy array is then mapped and unmapped, ~18 k page faults and ~6 %
    # more CPU per day. None drops it (a value in the submitting shell's environment still wins).
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # the statistical profiler samples the task's stack every 10 ms from a second thread, and
    # the monitors wake the worker's event loop many times a second: all take the GIL from
    # the replay
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@dataclass(frozen=True)
class Target:
    """Where tasks run: `serial`, a scheduler address, or a local cluster of `workers`."""

    serial: bool = False
    scheduler: str | None = None
    workers: int | None = None  # local cluster size; default one worker per core

    def describe(self) -> str:
        if self.serial:
            return "serial"
        if self.scheduler:
            return f"scheduler {self.scheduler}"
        return f"local cluster, {self.local_workers()} workers"

    def local_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


class Progress:
    """A one-line terminal bar on stderr; silent when stderr is not a terminal."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()

    def advance(self, row: Row) -> None:
        self.done += 1
        self.failed += "error" in row
        if self.enabled:
            width = 30
            filled = width * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (width - filled)
            fail = f", {self.failed} failed" if self.failed else ""
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} tasks{fail}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def run_all(tasks: list[DayTask], target: Target, client: Any = None) -> list[Row]:
    """Every task's row, in task order; `client`: a Dask client already connected (else one is
    made for `target` and closed at the end)."""
    progress = Progress(len(tasks))
    if target.serial:
        rows = []
        for task in tasks:
            rows.append(run_task(task))
            progress.advance(rows[-1])
        return rows
    if client is not None:
        return _on_cluster(client, tasks, progress)
    with connect(target) as made:
        return _on_cluster(made, tasks, progress)


def _on_cluster(client: Any, tasks: list[DayTask], progress: Progress) -> list[Row]:
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]  # keys unique on a scheduler other runs may share
    keys = [f"inavd-{task.key}-{token}" for task in tasks]
    futures = client.map(run_task, tasks, key=keys, pure=False)
    slot = {f.key: i for i, f in enumerate(futures)}
    rows: list[Row | None] = [None] * len(tasks)
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        i = slot[future.key]
        rows[i] = _result(future, tasks[i])
        progress.advance(rows[i] or {})
    return [r for r in rows if r is not None]


def _result(future: Any, task: DayTask) -> Row:
    """The task's row, or an error row when Dask itself gave up on it (a worker kept dying)."""
    try:
        row: Row = future.result()
        return row
    except Exception as exc:
        row = {"day": task.source.label, "error": f"{type(exc).__name__}: {exc}"}
        if task.setting:
            row["setting"] = task.setting
        return row


@contextmanager
def connect(target: Target) -> Iterator[Any]:
    """A Dask client for `target`: the scheduler it names, or a new local cluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "Dask is not installed: pip install 'inavd[research]', or run with --serial"
        ) from None
    if target.scheduler:
        try:
            client = Client(target.scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"--scheduler {target.scheduler}: cannot connect ({exc})") from None
        with client:
            yield client
        return
    import dask

    with dask.config.set(LOCAL_CLUSTER_CONFIG):  # read when the workers are spawned
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=target.local_workers(),
            threads_per_worker=1,  # the replay is single-threaded Python: one task per process
            processes=True,
            dashboard_address=":0",  # a free port: never 8787, the ops endpoint's default
            silence_logs=logging.ERROR,
        )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client
