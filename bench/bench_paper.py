"""Paper venue: what matching on every quote costs per batch.

`PaperBroker.next_match` runs once per stop of the core (each quote a working order could fill on,
and each batch end): a vectorised scan of the rest of the batch per working order. Measured on
8,192-quote slices of the bundled session with 1, 8 and 32 working limit orders that never become
marketable (the worst case: every order scans the whole batch, nothing stops it early).
"""

from __future__ import annotations

import asyncio
import time
from statistics import median

import pandas as pd

from bench.common import machine
from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.clock import SimClock
from inavd.domain.orders import OrderRequest, OrderType, Side
from inavd.feeds.columns import to_batch
from inavd.feeds.sample import SAMPLE_BENCHMARKS, SAMPLE_FUNDS, sample_session_path

BATCH = 8192
REPEATS = 200


def bench_next_match(n_orders: int) -> float:
    """Median µs of one `next_match` over an 8,192-quote batch with `n_orders` working."""
    symbols = SAMPLE_BENCHMARKS + SAMPLE_FUNDS
    book = QuoteBook(symbols)
    df = pd.read_parquet(sample_session_path()).iloc[200_000 : 200_000 + BATCH]
    batch = to_batch(df, book.index)
    broker = PaperBroker(book, SimClock(int(batch.ts_ns[0])))
    for k in range(n_orders):
        sym = SAMPLE_FUNDS[k % len(SAMPLE_FUNDS)]
        req = OrderRequest(f"o{k}", sym, Side.BUY, 100, OrderType.LIMIT, limit_price=0.01)
        asyncio.run(broker.submit(req))
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        assert broker.next_match(batch) == -1
        times.append(time.perf_counter() - t0)
    return median(times) * 1e6


def main() -> None:
    print(f"machine: {machine()}")
    for n in (1, 8, 32):
        us = bench_next_match(n)
        print(
            f"next_match over {BATCH:,} quotes, {n} working orders: median {us:.1f} µs"
            f" ({us * 1e3 / BATCH:.1f} ns per quote)"
        )


if __name__ == "__main__":
    main()
