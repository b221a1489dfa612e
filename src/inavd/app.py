"""Composition root: builds the object graph from the config and runs it.

Paper vs live is a choice of adapters made here and nowhere else.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import msgspec
import structlog

from inavd import gcpolicy
from inavd.adapters import make_broker, make_feed, make_reference
from inavd.book.quote_book import QuoteBook, SanityBand
from inavd.brokers.paper import PaperBroker
from inavd.bus import Bus
from inavd.calendar import Session, previous_session_day, session_for
from inavd.clock import NY, SimClock, WallClock, dt_to_ns
from inavd.core import Core
from inavd.costs import CostModel
from inavd.domain.events import InavEvaluated, TradingState
from inavd.domain.instruments import Universe
from inavd.domain.orders import Fill, Order
from inavd.errors import ConfigError
from inavd.execution.journal import Journal, defer_on_loop
from inavd.execution.operator import OperatorDesk
from inavd.execution.reconcile import Reconciler
from inavd.execution.recorder import JournalRecorder
from inavd.execution.resume import ReplayResume
from inavd.execution.router import OrderRouter
from inavd.execution.state_store import TradingStateStore
from inavd.execution.storage import build_snapshot_writer
from inavd.feeds.sample import bundled_funds
from inavd.inav.engine import InavEngine, Reference
from inavd.lifecycle import Lifecycle, StateLock
from inavd.live_config import KEY_ENV, SECRET_ENV
from inavd.ports import Service
from inavd.reference import report_excluded
from inavd.reference_report import reference_document
from inavd.risk.pipeline import build_gates
from inavd.risk.state import TradingStateController
from inavd.run_loop import consume
from inavd.run_record import record_run_end, record_run_start, run_summary
from inavd.services import build_services
from inavd.settings import Config
from inavd.signals.base import Signal
from inavd.signals.factory import build_signals
from inavd.startup import broker_reachable
from inavd.summary import SummaryCollector
from inavd.supervisor import Supervisor
from inavd.universe import build_universe

log = structlog.get_logger(__name__)


class RunOptions(msgspec.Struct):
    speed: float | None = None  # overrides feed.speed
    summary_json: Path | None = None
    quiet: bool = False
    serve: bool = False  # keep ops/MQTT up after a replay ends, until stopped
    gc_freeze: bool = True  # False: the caller runs the collector (a process replaying many days)


def new_run_id() -> str:
    # base36 of wall-clock milliseconds: short enough for client order ids, and two daemons
    # started in the same second (a second instance refused by the state lock) still differ
    n = time.time_ns() // 1_000_000
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return "r" + out


class App:
    """One session: feed → book → iNAV → signals → router → broker, journal and side channels."""

    def __init__(self, cfg: Config, opts: RunOptions) -> None:
        self.cfg = cfg
        self.opts = opts
        self.run_id = cfg.settings.run.run_id or new_run_id()
        self._build_market()
        self._build_pricing()
        self._build_execution()
        self._build_core()
        self._build_bookkeeping()

    def _build_market(self) -> None:
        """Universe, book, feed, session and clock."""
        cfg, s = self.cfg, self.cfg.settings
        # a bundled session covers only the funds that have real bars that day
        only = bundled_funds(s.feed.path) if s.feed.kind != "alpaca" else None
        self.universe: Universe = build_universe(cfg.universe, only)
        f = s.feed
        self.book = QuoteBook(
            self.universe.symbols,
            sanity=SanityBand(f.jump_ratio, f.jump_window_s, f.close_ratio),
        )
        bundle = make_feed(cfg, self.book.index, self.universe.symbols)
        self.feed = bundle.feed
        self.feed_total = bundle.total
        self.day = bundle.day
        session = session_for(self.day)
        if session is None:
            raise ConfigError(f"{cfg.path}: {self.day} is not an exchange session")
        self.session: Session = session
        # now that the day is known: use published baskets only if struck at the prior close
        self.universe = build_universe(cfg.universe, only, previous_session_day(self.day))
        speed = s.feed.speed if self.opts.speed is None else self.opts.speed
        self.live = not bundle.replay  # live: wall time, today's session, run until stopped
        self.clock: SimClock | WallClock = (
            WallClock() if self.live else SimClock(session.open_ns, speed=speed)
        )
        self.bus = Bus()

    def _build_pricing(self) -> None:
        """The iNAV engine and its start-of-day reference."""
        cfg, s = self.cfg, self.cfg.settings
        self.engine = InavEngine(
            self.universe,
            self.book,
            s.inav.cash_rate,
            {b: spec.dividend_yield for b, spec in cfg.universe.benchmarks.items()},
            flow_funds=build_universe(cfg.universe).funds,  # traded or not
        )
        self.reference: Reference = make_reference(cfg, self.day, self.universe.symbols)
        if self.reference.adjustments:
            log.info("corporate actions applied", adjustments=self.reference_doc()["adjustments"])
        self.book.set_prior_close(self.reference.prior_close)
        excluded = self.engine.set_reference(self.reference)
        if excluded:
            log.warning("funds without a reference are not priced", funds=excluded)
        report_excluded(excluded, s.reference.source)
        self.excluded_funds: list[str] = excluded  # read by the ops metrics at scrape time

    def _build_execution(self) -> None:
        """Journal, broker, trading state, router and the gates in front of it."""
        cfg, s, session = self.cfg, self.cfg.settings, self.session
        self.journal = Journal(
            cfg.journal_path,
            s.journal.synchronous,
            int(s.journal.wal_max_mb * 1024 * 1024),
            defer=defer_on_loop,  # commits reach SQLite between steps, many at a time
        )
        self.journal.on_failure = self._on_journal_failure
        self.broker = make_broker(cfg, self.book, self.clock, session, self.run_id, self.universe)
        self.trading_state = TradingStateController(self.bus, self.clock)
        self.broker_fatal = 0  # 401/403 answers while trading (each one halts)
        self.router = OrderRouter(
            self.run_id, self.broker, self.bus, self.clock,
            settings=s.execution, journal=self.journal, book=self.book, session=session,
        )  # fmt: skip
        self.gates = build_gates(
            s.risk,
            universe=self.universe,
            book=self.book,
            positions=self.router,
            clock=self.clock,
            session=session,
            state=self.trading_state,
            bus=self.bus,
        )
        self.router.gates.append(self.gates)
        self.router.on_fatal = self._broker_fatal
        self._restore_trading_state()
        self.operator = OperatorDesk(self.router, self.trading_state)  # the side channels' hand
        for venue in (self.feed, self.broker):  # live adapters gate orders while not ready
            gate = getattr(venue, "gate", None)
            if gate is not None:
                self.router.gates.append(gate)
        self.broker.set_listener(self._on_order, self._on_fill)
        self.router.costs = CostModel(s.costs)  # fees of fills that arrive without them

    def _on_journal_failure(self, error: str) -> None:
        """Nothing may trade unrecorded: halt (not durable: the journal cannot take it) and stop."""
        self.trading_state.set(TradingState.HALTED, f"journal write failed: {error}", durable=False)
        self.request_stop()

    def _restore_trading_state(self) -> None:
        """Come back in the state the journal says this session (live) or run (replay) left."""
        self.state_store = store = TradingStateStore(
            self.journal, self.day.isoformat(), self.run_id, whole_session=self.live
        )
        carried = self.gates.carried_pnl_usd = store.carried_pnl_usd()
        store.realized = lambda: carried + self.router.ledger.realized_pnl_usd
        last = store.last()
        if last is not None:
            self.trading_state.restore(last.state, last.reason)
        self.trading_state.store = store

    def _build_core(self) -> None:
        self.core = Core(
            book=self.book,
            engine=self.engine,
            bus=self.bus,
            router=self.router,
            signals=self._signals(),
            session=self.session,
            interval_s=self.cfg.settings.inav.interval_s,
            advance_clock=self.clock.advance_to if isinstance(self.clock, SimClock) else _no_op,
            catch_up=not self.live,
        )
        if isinstance(self.broker, PaperBroker):  # the simulated venue watches the same book
            self.core.venue = self.broker
            self.core.close_listeners.append(self.broker.on_session_close)
            self.bus.subscribe(InavEvaluated, self.broker.auction.on_inav)

    def _build_bookkeeping(self) -> None:
        """Journal recorder, crash resume, reconciliation, summary, supervision, services."""
        self.recorder = JournalRecorder(self.journal, self.run_id)
        self.recorder.attach(self.bus)
        self.snapshots = build_snapshot_writer(self)
        self.resume = ReplayResume(self.journal, self.run_id)  # refuses a completed run id
        self.reconciler = Reconciler(self.router, self.journal, self.bus, [self.recorder.ledger])
        self.router.reconciler = self.reconciler.run
        self.router.ready = False  # gated until start-up reconciliation succeeds
        self.collector = SummaryCollector()
        self.collector.attach(self.bus)
        self.supervisor = Supervisor()
        self.stop_event = asyncio.Event()
        self.linger_s = -1.0 if self.opts.serve else self.cfg.settings.ops.linger_s
        self.services: list[Service] = build_services(self)

    def reference_doc(self) -> dict[str, Any]:
        """Corporate-action adjustments and NAV sources of this session (status, journal)."""
        return reference_document(self.reference, self.universe, self.reference.actions_source)

    def _broker_fatal(self, why: str) -> None:
        """401/403 while trading: keys revoked or account blocked. HALTED (an event and the
        trading-state metric) instead of losing one order after another."""
        self.broker_fatal += 1
        if self.trading_state.set(TradingState.HALTED, f"broker refused: {why}"):
            log.error("broker refused the keys: trading halted", reason=why,
                      check=f"{KEY_ENV} / {SECRET_ENV}")

    def _seed_day_trades(self) -> None:
        """A live restart: shares this journal saw bought (or shorted) earlier today still make a
        day trade when closed. Replays start from their own journal state and skip this."""
        if self.live:
            midnight = dt_to_ns(datetime.combine(self.day, dtime(0), NY))
            sql = "SELECT symbol, side, qty FROM fills WHERE ts_ns >= ? ORDER BY ts_ns"
            self.gates.day_trades.seed(self.journal.query(sql, (midnight,)), self.router.ledger.qty)

    def _signals(self) -> list[Signal]:
        # a short the venue will not lend becomes the same exposure long, before any gate
        lends = self.gates.rules.lends
        return build_signals(self.cfg.settings, self.universe, self.day, venue_lends=lends)

    def _on_order(self, order: Order) -> None:
        self.router.on_order(order)  # publishes OrderUpdated unless the transition is illegal

    def _on_fill(self, fill: Fill, position: float) -> None:
        self.router.on_fill(fill, position)  # publishes OrderFilled once per execution id

    # ------------------------------------------------------------------ run
    def request_stop(self) -> None:
        """Ask the run loop to stop after the current batch (signals, operator, tests)."""
        self.stop_event.set()

    async def run(self) -> dict[str, Any]:
        lock = StateLock.acquire(self.cfg.journal_path)  # one writer per journal
        life = Lifecycle(self)
        started = False
        gc_state: gcpolicy.GcState | None = None
        try:
            record_run_start(self)
            life.install_signal_handlers()  # a stop also ends a start-up wait for the network
            if not await broker_reachable(self.broker, self.cfg.settings.alpaca, self.stop_event):
                return run_summary(self, 0.0)
            await self.broker.connect()
            await self.gates.rules.load(self.broker, self.universe.symbols)  # borrow, PDT: today's
            started = True
            await self.reconciler.run(startup=True)  # retried by the run loop until it succeeds
            self._seed_day_trades()
            for service in self.services:
                await service.start(self)
            if self.opts.gc_freeze:  # built: long-lived objects leave the collector's walk
                gc_state = gcpolicy.freeze()
            summary = await self._run_feed(life)
            await life.linger()
        except Exception:
            if self.journal.failure is not None:  # the cause, whatever surfaced first
                raise self.journal.failure from None
            raise
        finally:
            await life.shutdown(started)
            lock.release()
            if gc_state is not None:
                gcpolicy.thaw(gc_state)
            else:
                gcpolicy.resume()  # stopped before the freeze: collect as usual again
        if self.journal.failure is not None:  # noticed by a step that carried on
            raise self.journal.failure
        return summary

    async def _run_feed(self, life: Lifecycle) -> dict[str, Any]:
        started = time.perf_counter()
        await life.until_stopped(consume(self, started, self.opts.quiet))
        if not self.stop_event.is_set():
            await self.core.close_session()
        wall = time.perf_counter() - started
        self.close_history()
        summary = run_summary(self, wall)
        record_run_end(self, summary)
        return summary

    def close_history(self) -> None:
        """Pending iNAV history and denial counts written (idempotent: also on shutdown)."""
        if self.snapshots is not None:
            self.snapshots.close()
        self.recorder.flush()


def _no_op(_ts_ns: int) -> None:
    """Live time is the wall clock: the data does not advance it."""


def install_event_loop_policy() -> None:
    """uvloop where available (not on Windows)."""
    if sys.platform == "win32":
        return
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
