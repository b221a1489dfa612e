"""Decision-step benchmark: signals + sizing + gates for every fund after one iNAV evaluation.

Targets (issues 3, 14): median ≤ 50 µs for 20 funds; the gate pipeline on one order p99 ≤ 20 µs.
Scenarios: steady (positions match the targets), busy (the same unfilled orders re-gated on an
unchanged state) and moving (the busy orders, with every quote and the iNAV moved before each
step, so nothing judged or decided before can be reused: the cost of real work).
Run: .venv/bin/python -m bench.bench_decision  (`--signals`: each signal's share of the moving step;
`--gates`: the gates' share of it; `--digest`: a digest of what 1,000 moving steps decide).
The decision path runs compiled where it was built so (`inavd.native`); INAVD_PURE_PYTHON=1 runs
it interpreted, for a comparison in the same minutes.
"""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import sys
import time
from datetime import date, datetime

import numpy as np

from inavd import native
from inavd.book.quote_book import QuoteBook
from inavd.bus import Bus
from inavd.calendar import session_for
from inavd.clock import NY, SimClock, dt_to_ns
from inavd.domain.events import InavEvaluated, frozen_copy
from inavd.domain.instruments import Fund, Universe
from inavd.domain.ledger import Ledger
from inavd.domain.orders import Fill, Order, OrderRequest, Side
from inavd.domain.quotes import QuoteBatch
from inavd.execution.positions import PositionView
from inavd.inav.engine import InavEngine, Reference
from inavd.risk.pipeline import build_gates
from inavd.risk.state import TradingStateController
from inavd.settings import Settings
from inavd.signals.base import Context
from inavd.signals.factory import build_signals

DAY = date(2020, 3, 16)
BENCH = {"SPY": 270.0, "QQQ": 190.0, "IWM": 118.0, "DIA": 230.0}
LEVERAGES = (-1.0, -2.0, -3.0, 2.0, 3.0)


class Positions:
    def __init__(self) -> None:
        self.ledger = Ledger()
        self.open: dict[str, Order] = {}

    def expected_position(self, symbol: str) -> float:
        return self.ledger.position(symbol)

    def expected_positions(self, universe: dict[str, int]) -> PositionView:
        """As the router builds it once per evaluation (the bench never has working orders)."""
        return PositionView(self.ledger.qty, (), universe)


def setup(busy: bool) -> tuple[Universe, QuoteBook, InavEngine, int]:
    funds = tuple(
        Fund(f"{b[:2]}{i}", b, lev, 0.009, aum_usd=1e9)
        for b in BENCH
        for i, lev in enumerate(LEVERAGES)
    )
    u = Universe(tuple(BENCH), funds)
    book = QuoteBook(u.symbols)
    now = dt_to_ns(datetime(2020, 3, 16, 15, 35, tzinfo=NY))
    mids = {**BENCH, **{f.symbol: 30.0 for f in funds}}
    # a few funds trade at a discount so that signals emit intents every step
    disc = {f.symbol: 0.9990 for f in funds[::4]} if busy else {}
    for n in range(50):
        syms = list(u.symbols)
        m = [mids[s] * disc.get(s, 1.0) * (1 + 1e-4 * np.sin(n + k)) for k, s in enumerate(syms)]
        book.apply(
            QuoteBatch.of(
                [now - (50 - n) * 10**8] * len(syms),
                [book.index[s] for s in syms],
                [x - 0.01 for x in m],
                [x + 0.01 for x in m],
                [500.0] * len(syms),
                [500.0] * len(syms),
            )
        )
    engine = InavEngine(u, book, 0.0)
    engine.set_reference(Reference(dict(mids), {f.symbol: 30.0 for f in funds}, now - 10**13))
    return u, book, engine, now


def settings() -> Settings:
    return Settings(
        strategies={
            # each signal owns its funds (targets are absolute positions per symbol, so two
            # signals on one fund would overrule each other; the default config does the same);
            # the −1x funds (index 0) are the vol hedge's
            "premium_reversion": {
                "enabled": True,
                "entry_bp": 5,
                "exit_bp": 1,
                "symbols": [f"{b[:2]}{i}" for b in ("SPY", "DIA") for i in range(1, 5)],
            },
            "premium_arb": {
                "enabled": True,
                "symbols": [f"{b[:2]}{i}" for b in ("QQQ", "IWM") for i in range(1, 5)],
            },
            "moc_flow": {"enabled": True, "closing_volume_usd": dict.fromkeys(BENCH, 1e9)},
            "mean_reversion": {"enabled": True},
            "vol_hedge": {
                "enabled": True,
                "portfolio_beta_usd": dict.fromkeys(BENCH, 50_000),
                "daily_closes": "",
            },
            "decay_monitor": {"enabled": True},
        }
    )


def jitter(book: QuoteBook, u: Universe, now: int, n: int) -> None:
    """A new quote for every symbol, each mid moved by a few parts in a million (the discounts,
    and so the orders, stay as they are; every price, spread and premium differs)."""
    syms = list(u.symbols)
    i = [book.index[s] for s in syms]
    m = (book.bid[i] + book.ask[i]) * 0.5 * (1 + 2e-6 * np.sin(np.arange(len(syms)) + n))
    book.apply(QuoteBatch.of([now] * len(syms), i, m - 0.01, m + 0.01, [500.0] * len(syms),
                             [500.0] * len(syms)))  # fmt: skip


def inav_event(engine: InavEngine, u: Universe, ts: int) -> InavEvaluated:
    """One evaluation, as the core turns it into its event."""
    r = engine.evaluate(ts)
    return InavEvaluated(
        ts,
        engine.fund_symbols,
        frozen_copy(r.inav),
        frozen_copy(r.mid),
        frozen_copy(r.premium_bp),
        frozen_copy(r.benchmark_move),
        frozen_copy(r.flow_usd),
        {b: float(v) for b, v in zip(u.benchmarks, r.flow_by_benchmark, strict=True)},
    )


def run(
    scenario: str, gate_times: list[int] | None = None
) -> tuple[int, float, float, float, float]:
    """(orders per step, step median, one order afresh median and p99, remembered median), all µs.
    With `gate_times`, the time spent in the gates of each step is appended to it."""
    busy = scenario != "steady"
    u, book, engine, now = setup(busy)
    s = session_for(DAY)
    bus, clock = Bus(), SimClock(now)
    pos = Positions()
    gates = build_gates(
        settings().risk,
        universe=u,
        book=book,
        positions=pos,
        clock=clock,
        session=s,
        state=TradingStateController(bus, clock),
        bus=bus,
    )
    signals = build_signals(settings(), u, DAY)

    def evaluate(ts: int) -> InavEvaluated:
        ev = inav_event(engine, u, ts)
        bus.publish(ev)
        return ev

    ev = evaluate(now)

    def step() -> int:
        positions = pos.expected_positions(book.index)
        ctx = Context(now, s, book, positions)
        n = gated = 0
        for sig in signals:
            for it in sig.on_inav(ev, ctx):
                delta = it.target_qty - positions.get(it.symbol, 0.0)
                if abs(delta) < 1:
                    continue
                req = OrderRequest("c", it.symbol, Side.BUY if delta > 0 else Side.SELL, abs(delta))
                if gate_times is None:
                    gates(req)
                else:
                    t = time.perf_counter_ns()
                    gates(req)
                    gated += time.perf_counter_ns() - t
                gates.sent.clear()  # the bench never fills: keep the rate gate out of the way
                n += 1
        if gate_times is not None:
            gate_times.append(gated)
        return n

    if not busy:
        # steady state: every order a step wants is filled (as the router and venue would do)
        # until the signals' targets and the positions agree; later steps then gate nothing
        for _ in range(10):
            held = pos.expected_positions(book.index)
            wanted = [it for sig in signals for it in sig.on_inav(ev, Context(now, s, book, held))]
            moves = [(it, it.target_qty - held.get(it.symbol, 0.0)) for it in wanted]
            moves = [(it, d) for it, d in moves if abs(d) >= 1]
            if not moves:
                break
            for it, d in moves:
                side = Side.BUY if d > 0 else Side.SELL
                px = float(book.mid[book.index[it.symbol]])
                pos.ledger.apply(Fill(now, "w", "w", it.symbol, side, abs(d), px, "w"))
    orders = step()
    times = []
    for n in range(3000):
        if scenario == "moving":  # untimed: the quotes and the evaluation before the step
            now += 1_000_000
            clock.advance_to(now)
            jitter(book, u, now, n)
            ev = evaluate(now)
        t0 = time.perf_counter_ns()
        step()
        times.append(time.perf_counter_ns() - t0)
    step_med = statistics.median(times) / 1e3

    # one order through the gates, judged afresh every call (the clock moves 1 ns, so nothing
    # judged before is reused), and on an unchanged state: the first order at a clock reading is
    # judged, the second judged and remembered, the third answered from memory
    req = OrderRequest("c", u.funds[0].symbol, Side.BUY, 100)
    fresh, same = [], []
    for _ in range(20000):
        now += 1
        clock.advance_to(now)
        t0 = time.perf_counter_ns()
        gates(req)
        fresh.append(time.perf_counter_ns() - t0)
        gates.sent.clear()
        gates(req)
        gates.sent.clear()
        t0 = time.perf_counter_ns()
        gates(req)
        same.append(time.perf_counter_ns() - t0)
        gates.sent.clear()
    fresh.sort()
    g_med, g_p99 = fresh[len(fresh) // 2] / 1e3, fresh[int(len(fresh) * 0.99)] / 1e3
    return orders, step_med, g_med, g_p99, statistics.median(same) / 1e3


def per_signal(steps: int = 3000) -> dict[str, float]:
    """Median µs of each signal (and of building the positions view and the context) in the
    moving scenario, without the gates: the signals' share of the step."""
    u, book, engine, now = setup(True)
    s = session_for(DAY)
    pos = Positions()
    signals = build_signals(settings(), u, DAY)
    names = [type(getattr(sig, "inner", sig)).__name__ for sig in signals]
    times: dict[str, list[int]] = {n: [] for n in ["context", *names, "all signals"]}
    for n in range(steps):
        now += 1_000_000
        jitter(book, u, now, n)
        ev = inav_event(engine, u, now)
        t0 = time.perf_counter_ns()
        ctx = Context(now, s, book, pos.expected_positions(book.index))
        t1 = time.perf_counter_ns()
        times["context"].append(t1 - t0)
        for name, sig in zip(names, signals, strict=True):
            t = time.perf_counter_ns()
            sig.on_inav(ev, ctx)
            times[name].append(time.perf_counter_ns() - t)
        times["all signals"].append(time.perf_counter_ns() - t1)
    return {k: statistics.median(v) / 1e3 for k, v in times.items()}


def digest(steps: int = 1000) -> str:
    """sha256 over the intents and gate answers of `steps` moving steps, every 10th step filling
    the orders that pass (so entries, exits and hedges of held positions are decided too): the
    same digest from the compiled and the interpreted decision path shows they decide
    alike (`tests/integration/test_native_build.py`)."""
    u, book, engine, now = setup(True)
    s = session_for(DAY)
    bus, clock = Bus(), SimClock(now)
    pos = Positions()
    gates = build_gates(settings().risk, universe=u, book=book, positions=pos, clock=clock,
                        session=s, state=TradingStateController(bus, clock), bus=bus)  # fmt: skip
    signals = build_signals(settings(), u, DAY)
    h = hashlib.sha256()
    for n in range(steps):
        now += 1_000_000_000
        clock.advance_to(now)
        jitter(book, u, now, n)
        ev = inav_event(engine, u, now)
        bus.publish(ev)
        positions = pos.expected_positions(book.index)
        ctx = Context(now, s, book, positions)
        for sig in signals:
            for it in sig.on_inav(ev, ctx):
                delta = it.target_qty - positions.get(it.symbol, 0.0)
                side = Side.BUY if delta > 0 else Side.SELL
                denial = gates(OrderRequest("c", it.symbol, side, abs(delta)))
                gates.sent.clear()
                h.update(repr((n, it, denial)).encode())
                if denial is None and n % 10 == 0 and abs(delta) >= 1:
                    px = float(book.mid[book.index[it.symbol]])
                    pos.ledger.apply(Fill(now, "f", "f", it.symbol, side, abs(delta), px, "f"))
    return h.hexdigest()


def main() -> None:
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} {platform.platform()}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}; 20 funds, 6 signals;"
          f" decision path {' '.join(native.state())}")
    if "--gates" in sys.argv[1:]:
        gate_times: list[int] = []
        orders, step_med, *_ = run("moving", gate_times)
        med = statistics.median(gate_times[1:]) / 1e3  # the first entry is the untimed first step
        print(f"moving scenario, {orders} orders per step, the gates timed around each order:")
        print(f"  gates per step: median {med:.1f} µs ({med / orders:.2f} µs an order);"
              f" the step with the timers: median {step_med:.1f} µs")
        return
    if "--digest" in sys.argv[1:]:
        print(f"decision path: {native.state()[0]}; digest of 1,000 moving steps: {digest()}")
        return
    if "--signals" in sys.argv[1:]:
        print("moving scenario, each signal timed on its own (3,000 steps, medians):")
        for name, med in per_signal().items():
            print(f"  {name:18s} {med:6.1f} µs")
        return
    for scenario in ("steady", "busy", "moving"):
        orders, step_med, g_med, g_p99, g_same = run(scenario)
        label = {
            "steady": "steady (positions match the signals' targets)",
            "busy": "busy (5 funds at a 10 bp discount, orders never fill: every step re-gates"
            " them on an unchanged state)",
            "moving": "moving (the busy orders, every quote and the iNAV moved before each step)",
        }[scenario]
        print(f"{label}: {orders} orders gated per step")
        print(
            f"  decision step (signals + sizing + gates): median {step_med:.1f} µs"
            f"  (target ≤ 50 µs, ratio {step_med / 50:.2f})"
        )
        print(
            f"  gates on one order, judged afresh: median {g_med:.1f} µs, p99 {g_p99:.1f} µs"
            f"  (target p99 ≤ 20 µs, ratio {g_p99 / 20:.2f}); remembered: median {g_same:.1f} µs"
        )


if __name__ == "__main__":
    main()
