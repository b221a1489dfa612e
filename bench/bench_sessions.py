"""Building sessions from bundled real bars: one day's quotes, and the list of days.

Run: `.venv/bin/python -m bench.bench_sessions [runs]`. Medians over `runs` (default 5) runs, each
in a fresh cache state for the bar files (the first build of a day reads its bars)."""

from __future__ import annotations

import sys
import time
from datetime import date

from bench.common import machine, median
from inavd.feeds import days
from inavd.feeds.sample import build_day_session
from inavd.settings import load_config
from inavd.universe import build_universe


def _clear() -> None:
    for fn in (days._symbol_2019, days._bars_2025, days._candidate_days, days._daily_closes):
        fn.cache_clear()


def _time(fn: object, runs: int) -> tuple[float, object]:
    samples, out = [], None
    for _ in range(runs):
        _clear()
        t0 = time.perf_counter()
        out = fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - t0)
    return median(samples), out


def main(runs: int = 5) -> None:
    universe = build_universe(load_config(None).universe)
    print(machine())
    t, listed = _time(days.available_days, runs)
    print(f"available_days(): {len(listed):,} days in {t:.2f} s")  # type: ignore[arg-type]
    for day in (date(2019, 12, 20), date(2025, 4, 9), date(2025, 8, 19)):
        t, df = _time(lambda d=day: build_day_session(d, universe), runs)
        n = len(df)  # type: ignore[arg-type]
        print(f"build_day_session({day}): {n:,} quotes in {t:.2f} s ({n / t:,.0f} quotes/s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
