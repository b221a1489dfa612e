"""Order path: intent → gates → state machine → journal (write-ahead commit) → paper submit,
under a background load of 50 k quotes/s on the same event loop; and the journal's sustained
write rate in fills/s for each fsync policy.

The order path runs under the daemon's GC policy (`inavd.gcpolicy.freeze` after start-up, as
`inavd run` does); `--default-gc` measures it with CPython's default collector settings instead.

`--no-journal` isolates the Python side of the path: no journal (`journal=None`) and no recorder
on the bus, so what is timed is the router, gates, state machine, gateway and paper venue alone
(the journal's write rates are then not measured). `--no-load` drops the background quotes: the
venue is matched after each order instead (outside the timing), so every order does the same work
as under load and the process's instruction count is a deterministic function of `--orders`
(for A/B under `valgrind --tool=cachegrind`: the difference between two counts of orders, divided
by their difference, is the cost of one order). `--runs R` and `--orders N` set the repetitions
(default 3 × 2000).

Run: .venv/bin/python -m bench.bench_order_path [--default-gc] [--no-journal] [--no-load]
     [--runs R] [--orders N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import machine
from inavd import gcpolicy
from inavd.app import install_event_loop_policy
from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.events import OrderFilled
from inavd.domain.intents import Intent
from inavd.domain.orders import Fill, OrderRequest, Side
from inavd.domain.quotes import QuoteBatch
from inavd.execution.config import ExecutionSettings
from inavd.execution.journal import Journal
from inavd.execution.recorder import JournalRecorder
from inavd.execution.router import OrderRouter

SYMBOLS = tuple(f"F{i:02d}" for i in range(20))
QUOTES_PER_S = 50_000
TICK_S = 0.005  # the load arrives in batches of 250 quotes every 5 ms


def notional_gate(req: OrderRequest) -> tuple[str, str] | None:
    return ("max_qty", "too large") if req.qty > 10_000 else None


def spread_gate(book: QuoteBook):  # type: ignore[no-untyped-def]
    def gate(req: OrderRequest) -> tuple[str, str] | None:
        i = book.index[req.symbol]
        return ("spread", "wide") if book.ask[i] - book.bid[i] > 1.0 else None

    return gate


def batch(ts: int, n: int, rng: np.random.Generator) -> QuoteBatch:
    sym = rng.integers(0, len(SYMBOLS), n)
    mid = 50 + rng.normal(0, 0.01, n)
    return QuoteBatch.of([ts + k for k in range(n)], sym, mid - 0.01, mid + 0.01, [500] * n,
                         [500] * n)  # fmt: skip


async def order_path(
    tmp: Path, orders: int, gc_policy: bool = True, *, journaled: bool = True, load: bool = True
) -> tuple[list[float], int]:
    book = QuoteBook(SYMBOLS)
    clock = SimClock(1)
    paper = PaperBroker(book, clock)
    bus = Bus()
    journal = Journal(tmp / "path.sqlite", "normal") if journaled else None
    router = OrderRouter("bench", paper, bus, clock, settings=ExecutionSettings(), journal=journal,
                         book=book)  # fmt: skip
    router.gates += [notional_gate, spread_gate(book)]
    if journal is not None:
        JournalRecorder(journal, "bench").attach(bus)
    paper.set_listener(router.on_order, router.on_fill)
    rng = np.random.default_rng(7)
    book.apply(batch(1, 1000, rng))
    quotes = 0
    stop = False
    gc_state = gcpolicy.freeze() if gc_policy else None  # built: freeze, as the app does

    def tick(n: int) -> None:  # n new quotes: the book, the clock, the venue's matching
        nonlocal quotes
        b = batch(clock.now_ns() + 1000, n, rng)
        book.apply(b)
        clock.advance_to(int(b.ts_ns[-1]))
        paper.on_market(clock.now_ns())
        quotes += n

    async def background() -> None:  # 50 k quotes/s, paced on the wall clock
        t_next = time.perf_counter()
        while not stop:
            tick(int(QUOTES_PER_S * TICK_S))
            t_next += TICK_S
            await asyncio.sleep(max(0.0, t_next - time.perf_counter()))

    task = asyncio.create_task(background()) if load else None
    lat: list[float] = []
    t0 = time.perf_counter()
    for k in range(orders):
        sym = SYMBOLS[k % len(SYMBOLS)]
        target = 100.0 if (k // len(SYMBOLS)) % 2 == 0 else 0.0
        s = time.perf_counter_ns()
        await router.handle(Intent("bench", sym, target, "b"))
        lat.append((time.perf_counter_ns() - s) / 1000)
        if task is None:  # no load: one tick now, so the venue fills the order as under load
            tick(4 * len(SYMBOLS))
        await asyncio.sleep(0.001)  # orders interleave with the quote load
    wall = time.perf_counter() - t0
    stop = True
    if task is not None:
        await task
    if journal is not None:
        journal.close()
    if gc_state is not None:
        gcpolicy.thaw(gc_state)
    return lat, round(quotes / wall)


def _flag(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def journal_rate(tmp: Path, sync: str, n: int) -> float:
    journal = Journal(tmp / f"fills-{sync}.sqlite", sync)
    rec = JournalRecorder(journal, "bench")
    t0 = time.perf_counter()
    for k in range(n):
        f = Fill(k, f"c{k // 3}", "b", "SH", Side.BUY if k % 2 else Side.SELL, 10, 24.0, f"e{k}")
        rec.on_filled(OrderFilled(k, f, 0.0))  # one committed transaction per fill
    rate = n / (time.perf_counter() - t0)
    journal.close()
    return rate


def main() -> None:
    if "--asyncio" not in sys.argv:
        install_event_loop_policy()  # the daemon's loop (uvloop where available)
    gc_policy = "--default-gc" not in sys.argv
    journaled = "--no-journal" not in sys.argv
    load = "--no-load" not in sys.argv
    runs, orders = _flag("--runs", 3), _flag("--orders", 2000)
    print(f"machine: {machine()}")
    print(f"gc: {'freeze after start-up, threshold ' if gc_policy else 'CPython default '}"
          f"{gcpolicy.THRESHOLD if gc_policy else (700, 10, 10)}")  # fmt: skip
    print(f"journal: {'write-ahead commit per order' if journaled else 'none (Python side only)'}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results = []
        for r in range(runs):
            (tmp / str(r)).mkdir()
            results.append(
                asyncio.run(order_path(tmp / str(r), orders, gc_policy, journaled=journaled,
                                       load=load))
            )  # fmt: skip
        if not orders:
            return
        p50s = [float(np.percentile(lat, 50)) for lat, _ in results]
        p99s = [float(np.percentile(lat, 99)) for lat, _ in results]
        p50, p99 = statistics.median(p50s), statistics.median(p99s)
        quotes = statistics.median(q for _, q in results)
        print(f"order path, {runs} runs × {orders} intents, background load {quotes:,} quotes/s:")
        print(f"  p50 {p50:.1f} µs   p99 {p99:.1f} µs   (target p99 ≤ 250 µs, ratio {p99/250:.2f})")
        print("  per run: p50 " + " ".join(f"{v:.1f}" for v in p50s)
              + "   p99 " + " ".join(f"{v:.1f}" for v in p99s))  # fmt: skip
        if not journaled:
            return
        for sync in ("off", "normal", "full"):
            rates = []
            for _ in range(3):
                rates.append(journal_rate(tmp, sync, 5000))
                for f in tmp.glob(f"fills-{sync}.sqlite*"):
                    f.unlink()
            print(f"  journal synchronous={sync:<6} {statistics.median(rates):>9,.0f} fills/s")


if __name__ == "__main__":
    main()
