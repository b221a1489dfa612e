"""What operator safety adds to the order path: the journal's write-failure guard around every
statement, and the broker-call statistics of the gateway (two clock reads and a histogram bucket
per call). Both are compared with the bare operation they wrap.

    python -m bench.bench_safety
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import machine, median, per_call_us
from inavd.execution.call_stats import CallStats
from inavd.execution.journal import Journal

CALLS = 20_000
SQL = (
    "INSERT INTO signals (run_id, ts_ns, strategy, symbol, target_qty, reason)"
    " VALUES ('r', 1, 's', 'SH', 100.0, 'why')"
)


def journal_statement() -> tuple[float, float]:
    """µs per INSERT inside one open transaction: Journal.execute vs the bare connection."""
    with tempfile.TemporaryDirectory() as tmp:
        j = Journal(Path(tmp) / "j.sqlite")
        db: sqlite3.Connection = j.db
        j.begin()
        guarded = median(per_call_us(lambda: j.execute(SQL), CALLS))
        bare = median(per_call_us(lambda: db.execute(SQL), CALLS))
        j.commit()
        j.close()
    return guarded, bare


def call_stats() -> float:
    """µs per broker call added by the gateway's statistics (clock reads + observe)."""
    stats = CallStats()

    def timed() -> None:
        t0 = time.perf_counter()
        stats.observe("submit", time.perf_counter() - t0)

    return median(per_call_us(timed, CALLS))


def main() -> None:
    print(f"machine: {machine()}")
    guarded, bare = journal_statement()
    print(f"journal INSERT: Journal.execute {guarded:.2f} µs, bare sqlite3 {bare:.2f} µs,"
          f" guard {guarded - bare:+.2f} µs")  # fmt: skip
    print(f"gateway call statistics: {call_stats():.2f} µs per broker call")


if __name__ == "__main__":
    main()
