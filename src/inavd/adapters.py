"""Adapter factories: the one place that maps `feed.kind` / `broker.kind` to implementations."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import msgspec
import structlog

from inavd.book.quote_book import QuoteBook
from inavd.brokers.base import Broker
from inavd.brokers.capabilities import ConfiguredRules
from inavd.brokers.paper import PaperBroker
from inavd.brokers.paper_close import ClosingAuction, official_closes
from inavd.calendar import Session
from inavd.clock import Clock
from inavd.corporate_actions import CorporateActions, apply_actions, bundled_actions, read_actions
from inavd.costs import CostModel
from inavd.domain.instruments import Universe
from inavd.errors import ConfigError
from inavd.feeds.base import QuoteFeed
from inavd.feeds.replay import ReplayFeed
from inavd.feeds.sample import (
    parse_day_path,
    reference_for,
    sample_dir,
    sample_session_path,
    session_file,
)
from inavd.inav.engine import Reference
from inavd.settings import Config

log = structlog.get_logger(__name__)


class FeedBundle(msgspec.Struct):
    feed: QuoteFeed
    day: date  # the session this feed covers
    total: int | None  # number of quotes when known in advance (replay), for progress
    replay: bool  # True: time comes from the data (simulated clock)


def make_feed(cfg: Config, index: dict[str, int], symbols: tuple[str, ...]) -> FeedBundle:
    s = cfg.settings.feed
    if s.kind == "replay":
        day = parse_day_path(s.path)
        if day is not None:  # a bundled real day, built from its bars on first use
            from inavd.universe import build_universe

            r = cfg.settings.run
            cache = r.sessions_dir or r.data_dir / "sessions"
            path = session_file(day, build_universe(cfg.universe), cache)
        else:
            path = sample_session_path() if s.path == "sample" else Path(s.path)
        feed = ReplayFeed(path, index, s.session, s.batch_max, s.tz)
        return FeedBundle(feed, feed.day, len(feed), replay=True)
    if s.kind == "synthetic":
        return _synthetic(cfg, index, symbols)
    if s.kind == "alpaca":
        return _alpaca_feed(cfg, index)
    raise ConfigError(f"{cfg.path}: feed.kind: {s.kind!r} is not available in this build")


def _alpaca_feed(cfg: Config, index: dict[str, int]) -> FeedBundle:
    from inavd.calendar import session_for
    from inavd.clock import ns_to_ny
    from inavd.feeds.alpaca import AlpacaQuoteFeed
    from inavd.feeds.alpaca_direct import AlpacaDirectQuoteFeed
    from inavd.live_config import check_live_opt_in, load_credentials

    check_live_opt_in(cfg.settings.alpaca)
    today = ns_to_ny(time.time_ns()).date()
    while session_for(today) is None:  # weekend or holiday: the next session (wait for its open)
        today += timedelta(days=1)
    session = session_for(today)

    def in_market_hours(now_ns: int) -> bool:
        return session is not None and session.contains(now_ns)

    a = cfg.settings.alpaca
    cls = AlpacaDirectQuoteFeed if a.stream_client == "direct" else AlpacaQuoteFeed
    feed = cls(index, load_credentials(), a, in_market_hours, cfg.settings.feed.batch_max)
    return FeedBundle(feed, today, None, replay=False)


def _synthetic(cfg: Config, index: dict[str, int], symbols: tuple[str, ...]) -> FeedBundle:
    from inavd.feeds.columns import to_batch
    from inavd.feeds.replay import ArrayFeed
    from inavd.feeds.synthetic import generate_session  # scipy: only for this feed
    from inavd.universe import build_universe

    s = cfg.settings.feed
    bars_dir = sample_dir() / "bars" if s.path == "sample" else Path(s.path)
    if s.session is None:
        raise ConfigError(f"{cfg.path}: feed.session: the synthetic feed needs a session day")
    universe = build_universe(cfg.universe, {x for x in symbols})
    ref = make_reference(cfg, s.session, symbols)  # model fair values as the engine sees them
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


def make_auction(
    cfg: Config, day: date, symbols: tuple[str, ...], universe: Universe | None
) -> ClosingAuction:
    """The paper venue's closing auction: official closes where the bundled daily data has them."""
    p, feed = cfg.settings.paper, cfg.settings.feed
    official: dict[str, float] = {}
    bundled = feed.path == "sample" or feed.path.startswith("day:")  # the bundled daily data
    if p.close_price == "official" and bundled and feed.kind != "alpaca":
        official = official_closes(day, symbols, sample_dir())
    return ClosingAuction(
        official,
        impact_fraction=p.close_impact_fraction,
        closing_volume_usd=cfg.settings.strategies.moc_flow.closing_volume_usd,
        funds=universe.funds if universe is not None else (),
    )


def make_reference(cfg: Config, day: date, symbols: tuple[str, ...]) -> Reference:
    """Prior closes, then official NAVs when configured, then today's corporate actions."""
    r = cfg.settings.reference
    if r.source == "sample":
        ref = reference_for(day, symbols)
    else:
        from inavd.live_config import load_credentials
        from inavd.reference import load_reference

        if r.source != "alpaca":
            ref = load_reference(r, day, symbols, cfg.settings.alpaca, None)
        else:
            from inavd.startup import retry_network_sync

            a, creds = cfg.settings.alpaca, load_credentials()
            ref = retry_network_sync(
                "reference", lambda: load_reference(r, day, symbols, a, creds),
                a.backoff_min_s, a.backoff_max_s,
            )  # fmt: skip
    if r.nav_file:  # an operator's file of issuer NAVs
        from inavd.official_nav import apply_official_navs, read_nav_file

        ref = apply_official_navs(ref, read_nav_file(Path(r.nav_file)), day)
    actions = _corporate_actions(cfg, day, symbols)
    return apply_actions(
        ref, actions.on(day, symbols), cfg.universe.benchmarks, day, actions.source
    )


def _corporate_actions(cfg: Config, day: date, symbols: tuple[str, ...]) -> CorporateActions:
    r = cfg.settings.reference
    choice = r.corporate_actions
    if choice == "auto":
        choice = "alpaca" if r.source == "alpaca" else "bundled"
    if choice == "none":
        return CorporateActions({}, "none")
    if choice == "bundled":
        return bundled_actions()
    if choice == "alpaca":
        from inavd.corporate_actions_live import alpaca_actions
        from inavd.live_config import load_credentials

        return alpaca_actions(cfg.settings.alpaca, load_credentials(), symbols, day)
    return read_actions(Path(choice))


def configured_rules(cfg: Config) -> ConfiguredRules:
    """The paper venue lends `risk.shortable` and the funds flagged shortable in the universe."""
    s = cfg.settings
    funds = {sym for sym, f in cfg.universe.funds.items() if f.shortable}
    return ConfiguredRules(
        shortable=frozenset(s.risk.shortable) | funds,
        hard_to_borrow=frozenset(s.broker.hard_to_borrow),
        pattern_day_trader=s.broker.pattern_day_trader,
        daytrade_count=s.broker.daytrade_count,
    )


def make_broker(
    cfg: Config,
    book: QuoteBook,
    clock: Clock,
    session: Session,
    run_id: str = "paper",
    universe: Universe | None = None,
) -> Broker:
    s = cfg.settings.broker
    ex = cfg.settings.execution
    if s.kind == "paper":
        return PaperBroker(
            book,
            clock,
            latency_ms=s.latency_ms,
            starting_cash_usd=s.starting_cash_usd,
            moc_cutoff_ns=session.moc_cutoff_ns(ex.moc.cutoff_min_before_close),
            id_prefix=run_id,
            state_path=cfg.settings.run.data_dir / ex.paper_state if ex.paper_state else None,
            rules=configured_rules(cfg),
            settings=cfg.settings.paper,
            costs=CostModel(cfg.settings.costs),
            auction=make_auction(cfg, session.day, book.symbols, universe),
        )
    if s.kind == "alpaca":
        from inavd.brokers.alpaca.broker import AlpacaBroker
        from inavd.execution.ratelimit import Backoff, RateLimiter
        from inavd.live_config import check_live_opt_in, load_credentials, trading_mode

        check_live_opt_in(cfg.settings.alpaca)
        mode, host = trading_mode(cfg.settings.alpaca)
        log.info("trading endpoint", mode=mode, host=host)
        rl = ex.rate_limit  # one limiter for every request this process sends the broker
        extended = None
        if cfg.settings.risk.extended_hours:  # limit DAY orders outside the session carry the flag

            def extended() -> bool:
                return not session.contains(clock.now_ns())

        return AlpacaBroker(
            load_credentials(),
            cfg.settings.alpaca,
            limiter=RateLimiter(rl.per_minute, rl.headroom),
            backoff=Backoff(rl.backoff_base_ms / 1000, rl.backoff_max_ms / 1000),
            max_attempts=rl.max_attempts,
            extended_hours=extended,
        )
    raise ConfigError(f"{cfg.path}: broker.kind: {s.kind!r} is not available in this build")
