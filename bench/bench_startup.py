"""Start-up and the default run as a user sees them: `inavd version`, and `inavd run` in an empty
folder (embedded config, the bundled day, paper venue, SQLite journal) from process start to the
printed summary. Each run is a fresh process: its wall time, its peak RSS (from `wait4`) and the
replay's own wall time (the summary's `wall time` line, to the millisecond); medians of `--runs`,
and each run's own ratio.

Issue 14's target: peak RSS ≤ 250 MB and the whole process ≤ 2 × the replay time.

    .venv/bin/python -m bench.bench_startup [--runs 5] [--src DIR]

`--src DIR` runs another source tree (e.g. an export of an older commit) with the same Python,
for a before/after in the same minute.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import machine

WALL = re.compile(r"wall time\s+([\d.]+) s")


def _env(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:  # ahead of the installed package's path
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def one(args: list[str], src: str | None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of `python -m inavd ARGS` in an empty folder."""
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "inavd", *args],
            cwd=folder,
            env=_env(src),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"inavd {' '.join(args)} exited {proc.returncode}")
        return wall, usage.ru_maxrss / 1024, out  # Linux: ru_maxrss in KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--src", default=None, help="source tree to run instead of the installed one")
    a = ap.parse_args()
    print(machine())
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    version = [one(["version"], a.src)[0] for _ in range(a.runs)]
    runs = [one(["run", "--quiet"], a.src) for _ in range(a.runs)]
    replay = []
    for _, _, out in runs:
        m = WALL.search(out)
        if m is None:
            raise SystemExit("no 'wall time' line in the summary")
        replay.append(float(m.group(1)))
    whole = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    rep = statistics.median(replay)
    print(f"inavd version: {statistics.median(version):.3f} s (runs {_list(version)})")
    print(f"inavd run: whole process {whole:.3f} s (runs {_list([r[0] for r in runs], 3)})")
    ratios = sorted(r[0] / x for r, x in zip(runs, replay, strict=True))
    print(f"           replay {rep:.3f} s (runs {_list(replay, 3)}): ", end="")
    print(f"whole / replay {whole / rep:.2f}")
    print(
        f"           each run's whole / replay: {ratios[0]:.2f}–{ratios[-1]:.2f}, median "
        f"{statistics.median(ratios):.2f}"
    )
    print(f"           peak RSS {rss:.0f} MB (runs {_list([r[1] for r in runs], 0)})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def _list(xs: list[float], digits: int = 2) -> str:
    return ", ".join(f"{x:.{digits}f}" for x in xs)


if __name__ == "__main__":
    main()
