"""A small engine on a paper venue for execution tests: book, clock, journal, recorder, router."""

from __future__ import annotations

from pathlib import Path

from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.bus import Bus
from inavd.calendar import Session
from inavd.clock import SimClock
from inavd.domain.quotes import QuoteBatch
from inavd.execution.config import ExecutionSettings
from inavd.execution.journal import Journal
from inavd.execution.reconcile import Reconciler
from inavd.execution.recorder import JournalRecorder
from inavd.execution.router import OrderRouter

SYMBOLS = ("SH", "PSQ")


class Engine:
    def __init__(
        self,
        tmp: Path,
        settings: ExecutionSettings,
        session: Session | None = None,
        broker: object | None = None,
        run_id: str = "t1",
        book: QuoteBook | None = None,
        clock: SimClock | None = None,
        venue_state: bool = False,
    ) -> None:
        self.book = book or QuoteBook(SYMBOLS)
        self.clock = clock or SimClock(session.open_ns if session else 1_000)
        self.paper = PaperBroker(
            self.book, self.clock, state_path=tmp / "venue.sqlite" if venue_state else None
        )
        self.broker = broker or self.paper
        self.bus = Bus()
        self.journal = Journal(tmp / "journal.sqlite")
        self.journal.execute(
            "INSERT OR IGNORE INTO runs (run_id, started_ns) VALUES (?, 0)", (run_id,)
        )
        self.router = OrderRouter(
            run_id, self.broker, self.bus, self.clock,  # type: ignore[arg-type]
            settings=settings, journal=self.journal, book=self.book, session=session,
        )  # fmt: skip
        self.recorder = JournalRecorder(self.journal, run_id)
        self.recorder.attach(self.bus)
        self.reconciler = Reconciler(self.router, self.journal, self.bus, [self.recorder.ledger])
        self.paper.set_listener(self.router.on_order, self.router.on_fill)

    def quote(self, symbol: str, bid: float, ask: float, size: float = 1000) -> None:
        ts = self.clock.now_ns() + 1_000_000
        self.clock.advance_to(ts)
        i = self.book.index[symbol]
        self.book.apply(QuoteBatch.of([ts], [i], [bid], [ask], [size], [size]))
        self.paper.on_market(ts)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.journal.query(sql, params)
