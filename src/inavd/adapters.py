"""Adapter factories: the one place that maps `feed.kind` / `broker.kind` to implementations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from inavd.book.quote_book import QuoteBook
from inavd.brokers.base import Broker
from inavd.brokers.paper import PaperBroker
from inavd.calendar import Session
from inavd.clock import Clock
from inavd.errors import ConfigError
from inavd.feeds.base import QuoteFeed
from inavd.feeds.columns import to_batch
from inavd.feeds.replay import ReplayFeed
from inavd.feeds.sample import reference_for, sample_dir, sample_session_path
from inavd.feeds.synthetic import generate_session
from inavd.inav.engine import Reference
from inavd.settings import Config


@dataclass
class FeedBundle:
    feed: QuoteFeed
    day: date  # the session this feed covers
    total: int | None  # number of quotes when known in advance (replay), for progress
    replay: bool  # True: time comes from the data (simulated clock)


def make_feed(cfg: Config, index: dict[str, int], symbols: tuple[str, ...]) -> FeedBundle:
    s = cfg.settings.feed
    if s.kind == "replay":
        path = sample_session_path() if s.path == "sample" else Path(s.path)
        feed = ReplayFeed(path, index, s.session, s.batch_max)
        return FeedBundle(feed, feed.day, len(feed), replay=True)
    if s.kind == "synthetic":
        return _synthetic(cfg, index, symbols)
    raise ConfigError(f"{cfg.path}: feed.kind: {s.kind!r} is not available in this build")


def _synthetic(cfg: Config, index: dict[str, int], symbols: tuple[str, ...]) -> FeedBundle:
    from inavd.feeds.replay import ArrayFeed
    from inavd.universe import build_universe

    s = cfg.settings.feed
    bars_dir = sample_dir() / "bars" if s.path == "sample" else Path(s.path)
    if s.session is None:
        raise ConfigError(f"{cfg.path}: feed.session: the synthetic feed needs a session day")
    universe = build_universe(cfg.universe, {x for x in symbols})
    ref = reference_for(s.session, symbols)
    df = generate_session(
        day=s.session,
        bars_dir=bars_dir,
        benchmarks=[b for b in universe.benchmarks if (bars_dir / f"{b}.csv").exists()],
        funds=[f for f in universe.funds if (bars_dir / f"{f.symbol}.csv").exists()],
        prior_close=ref.prior_close,
        prior_nav=ref.prior_nav,
        seed=s.seed,
    )
    feed = ArrayFeed(to_batch(df, index), f"synthetic {s.session} seed {s.seed}", s.batch_max)
    return FeedBundle(feed, s.session, len(df), replay=True)


def make_reference(cfg: Config, day: date, symbols: tuple[str, ...]) -> Reference:
    return reference_for(day, symbols)


def make_broker(
    cfg: Config, book: QuoteBook, clock: Clock, session: Session, run_id: str = "paper"
) -> Broker:
    s = cfg.settings.broker
    if s.kind == "paper":
        return PaperBroker(
            book,
            clock,
            latency_ms=s.latency_ms,
            starting_cash_usd=s.starting_cash_usd,
            moc_cutoff_ns=session.moc_cutoff_ns(),
            id_prefix=run_id,
        )
    raise ConfigError(f"{cfg.path}: broker.kind: {s.kind!r} is not available in this build")
