"""Core benchmarks (issue: core daemon): book update rate, one iNAV evaluation for 1,000 funds
beside the bare numpy floor, and the whole replay pipeline.

    .venv/bin/python -m bench.bench_core
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

import numpy as np
import pandas as pd

from bench.common import machine, median, per_call_us
from inavd.book.quote_book import QuoteBook
from inavd.domain.instruments import Fund, Universe
from inavd.domain.quotes import QuoteBatch
from inavd.feeds.columns import to_batch
from inavd.feeds.sample import sample_session_path
from inavd.inav.engine import InavEngine, Reference


def bench_book() -> list[tuple[int, float]]:
    """Median quotes/s applying the bundled session in batches of each size."""
    df = pd.read_parquet(sample_session_path())
    symbols = tuple(sorted(df["symbol"].astype(str).unique()))
    data = to_batch(df, {s: i for i, s in enumerate(symbols)})
    n = len(data)
    out = []
    for batch_size in (100, 1024, 8192):
        parts = [data.slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
        rates = []
        for _ in range(5):
            book = QuoteBook(symbols)
            t0 = time.perf_counter()
            for p in parts:
                book.apply(p)
            rates.append(n / (time.perf_counter() - t0))
        out.append((batch_size, median(rates)))
    return out


def make_engine(n_funds: int) -> tuple[InavEngine, QuoteBook]:
    rng = np.random.default_rng(0)
    benches = ("SPY", "QQQ", "IWM", "DIA")
    levs = np.array([-3.0, -2.0, -1.0, 2.0, 3.0])
    funds = tuple(
        Fund(f"F{i:04d}", benches[i % 4], float(levs[i % 5]), 0.0095, aum_usd=1e8)
        for i in range(n_funds)
    )
    u = Universe(benches, funds)
    book = QuoteBook(u.symbols)
    eng = InavEngine(u, book, cash_rate=0.0155)
    prior = {
        s: float(p) for s, p in zip(u.symbols, rng.uniform(10, 400, len(u.symbols)), strict=True)
    }
    eng.set_reference(Reference(prior, {}, 0))
    n = len(u.symbols)
    mid = np.array([prior[s] for s in u.symbols]) * (1 + rng.normal(0, 0.01, n))
    book.apply(
        QuoteBatch(
            np.ones(n, np.int64),
            np.arange(n, dtype=np.int32),
            mid - 0.01,
            mid + 0.01,
            np.full(n, 100.0),
            np.full(n, 100.0),
        )
    )
    return eng, book


def bench_inav(n_funds: int = 1000) -> tuple[float, float]:
    eng, book = make_engine(n_funds)
    ts = 10**18
    samples = per_call_us(lambda: eng.evaluate(ts), calls=20_000)
    # the floor: the same arithmetic with no bookkeeping (mid, move, iNAV, premium, flow, sum)
    bid, ask, prior = book.bid, book.ask, eng.prior_close
    bi, fi, lev, nav, aum = eng.bench_idx, eng.fund_idx, eng.leverage, eng.prior_nav, eng.aum
    slot = eng.bench_slot

    def floor() -> None:
        mid = (bid + ask) * 0.5
        move = mid / prior - 1.0
        m = move[bi]
        inav = nav * (1.0 + lev * m)
        _prem = (mid[fi] / inav - 1.0) * 1e4
        np.bincount(slot, weights=aum * m, minlength=4)

    floor_samples = per_call_us(floor, calls=20_000)
    return median(samples), median(floor_samples)


def bench_replay() -> tuple[float, int]:
    from inavd.app import App, RunOptions
    from inavd.settings import load_config

    rates = []
    quotes = 0
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INAVD_RUN__DATA_DIR"] = tmp
        for _ in range(5):
            app = App(load_config(), RunOptions(quiet=True))
            summary = asyncio.run(app.run())
            rates.append(summary["quotes_per_second"])
            quotes = summary["quotes"]
        del os.environ["INAVD_RUN__DATA_DIR"]
    return median(rates), quotes


def main() -> None:
    print(f"machine: {machine()}")
    for bs, rate in bench_book():
        print(f"book update from decoded batches of {bs}: median {rate / 1e6:.2f} M quotes/s")
    eng_us, floor_us = bench_inav()
    print(
        f"iNAV + premium + flow, 1,000 funds: median {eng_us:.1f} µs;"
        f" bare numpy floor {floor_us:.1f} µs;"
        f" ratio {eng_us / floor_us:.2f}"
    )
    replay_rate, quotes = bench_replay()
    print(
        "replay pipeline (feed → book → iNAV → strategy → paper broker → journal),"
        f" {quotes:,} quotes:"
        f" median {replay_rate / 1e3:.0f} k quotes/s over 5 runs"
    )


if __name__ == "__main__":
    main()
