"""GARCH(1,1) fit at start-up: the in-house numpy estimator against `arch` (a test dependency).

Target (issue 14): the default run's fit (514 daily IWM returns) in ≤ 10 ms, with no arch or
scipy import in the daemon. Medians of interleaved rounds, warm (both imported before timing).
Run: .venv/bin/python -m bench.bench_garch [--calls 51] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from datetime import date

from inavd.signals.factory import load_daily_returns
from inavd.signals.garch import fit_garch11


def _median_ms(fn: Callable[[], float], calls: int) -> float:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=51)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    y = 100 * load_daily_returns("sample", date(2019, 12, 19))["IWM"]
    from arch import arch_model

    def ours() -> float:
        return fit_garch11(y).forecast

    def theirs() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1).fit(disp="off")
        return float(res.forecast(horizon=1, reindex=False).variance.values[-1, 0])

    print(
        f"load average {os.getloadavg()[0]:.2f}; {y.size} returns; forecast ours "
        f"{ours():.6f}, arch {theirs():.6f}"
    )
    for r in range(args.rounds):
        print(
            f"round {r}: ours {_median_ms(ours, args.calls):.2f} ms, "
            f"arch {_median_ms(theirs, args.calls):.2f} ms (medians of {args.calls})"
        )


if __name__ == "__main__":
    main()
