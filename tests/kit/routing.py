"""A journaled order router over the in-process paper venue, one SH quote on the book."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper import PaperBroker
from inavd.bus import Bus
from inavd.clock import SimClock
from inavd.domain.quotes import QuoteBatch
from inavd.execution.journal import Journal
from inavd.execution.recorder import JournalRecorder
from inavd.execution.router import OrderRouter


@dataclass
class PaperRouting:
    router: OrderRouter
    journal: Journal
    bus: Bus
    clock: SimClock


def paper_routing(tmp_path: Path) -> PaperRouting:
    book = QuoteBook(("SH",))
    clock = SimClock(1)
    book.apply(QuoteBatch.of([1], [0], [24.0], [24.02], [500], [500]))
    paper = PaperBroker(book, clock)
    bus = Bus()
    journal = Journal(tmp_path / "j.sqlite")
    router = OrderRouter("run", paper, bus, clock, journal=journal, book=book)
    JournalRecorder(journal, "run").attach(bus)
    paper.set_listener(router.on_order, router.on_fill)
    return PaperRouting(router, journal, bus, clock)
