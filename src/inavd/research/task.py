"""One research task: one day under one setting, replayed by the daemon into a private folder.

The task clears its folder when it starts and writes nothing else but, the first time a bundled
day is needed, that day's quote file into the run's shared sessions folder (named by its inputs,
renamed into place when complete). A task that Dask runs again (a lost worker, a retry) starts
from scratch and returns the same row.
"""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inavd import gcpolicy
from inavd.errors import InavdError
from inavd.research.days import DaySource
from inavd.research.grid import Overrides, apply_overrides
from inavd.settings import Config


@dataclass(frozen=True)
class DayTask:
    key: str  # unique within a run; names the private folder
    cfg: Config  # the user's config with this task's setting applied (validated by the client)
    source: DaySource
    folder: str  # absolute path of the task-private folder
    setting: Overrides = field(default_factory=dict)  # the grid point, for the result row
    # bundled days built from bars, shared by the run's tasks (files named by their inputs,
    # written under a temporary name and renamed: safe when tasks run twice or side by side)
    sessions_dir: str | None = None


def runner_overrides(task: DayTask) -> Overrides:
    """What every task sets: its day, its folder, a run id that depends only on the day, no
    side channels (parallel tasks must not fight over ports or publish to a live broker), and
    no fsync of the journal: a task that does not finish is run again from an empty folder, so
    nothing relies on its journal surviving a power loss (nine syncs a short day otherwise)."""
    return {
        "feed.kind": "replay",
        "feed.path": task.source.path,
        "feed.session": task.source.day,
        "run.data_dir": task.folder,
        "run.run_id": "bt" + task.source.day.strftime("%Y%m%d"),
        "run.sessions_dir": task.sessions_dir or str(Path(task.folder) / "sessions"),
        "journal.path": "journal.sqlite",
        "journal.synchronous": "off",
        "mqtt.enabled": False,
        "ops.enabled": False,
    }


def run_task(task: DayTask) -> dict[str, Any]:
    """Replay the day and return its compact row; a failure becomes a row with `error`."""
    row: dict[str, Any] = {"day": task.source.label}
    if task.setting:
        row["setting"] = task.setting
    with day_collector():
        try:
            row.update(_replay(task))
        except InavdError as exc:
            row["error"] = str(exc)
        except Exception as exc:  # a broken day must not take the others down; it is reported
            row["error"] = f"{type(exc).__name__}: {exc}"
    return row


def _replay(task: DayTask) -> dict[str, Any]:
    from inavd.app import RunOptions
    from inavd.commands.run import run_session
    from inavd.logging import configure_logging
    from inavd.research.metrics import DayWatch, day_row

    folder = Path(task.folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    configure_logging("warning")  # a task's progress is the runner's bar, not log lines
    cfg = apply_overrides(task.cfg, runner_overrides(task), origin="backtest")
    watch = DayWatch()
    summary = run_session(cfg, RunOptions(quiet=True, gc_freeze=False), watch.attach)
    return day_row(summary, watch)


@contextmanager
def day_collector() -> Iterator[None]:
    """The collector around one day in a process that replays many. The daemon's own policy
    (`inavd.gcpolicy`) freezes the whole heap once the app is built and unfreezes it at the end,
    so the next day's freeze must first collect the whole heap (the previous app is cyclic
    garbage among the imports): about 0.1 s a day. Instead, what exists before the day
    (imports, per-process caches) is frozen here — an O(1) move — the day runs with the
    daemon's thresholds, and one collection at its end walks only what the day allocated."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*gcpolicy.THRESHOLD)
    try:
        yield
    finally:
        gc.collect()  # the day's app and its cycles (the replay's frames are gone by now)
        gc.set_threshold(*previous)
        gc.unfreeze()
