"""Builders for signal, sizing and gate tests: a small universe, a warmed book, events, contexts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from inavd.book.quote_book import QuoteBook
from inavd.calendar import Session, session_for
from inavd.clock import NY, dt_to_ns
from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Fund, Universe
from inavd.domain.ledger import Ledger
from inavd.domain.orders import Order
from inavd.domain.quotes import QuoteBatch
from inavd.signals.base import Context

DAY = date(2020, 3, 16)


def session(day: date = DAY) -> Session:
    s = session_for(day)
    assert s is not None
    return s


def at(hh: int, mm: int, ss: int = 0, day: date = DAY) -> int:
    base = datetime(day.year, day.month, day.day, hh, mm, tzinfo=NY)
    return dt_to_ns(base + timedelta(seconds=ss))


def universe() -> Universe:
    return Universe(
        benchmarks=("SPY", "QQQ"),
        funds=(
            Fund("SH", "SPY", -1.0, 0.0089, aum_usd=100e6),
            Fund("SDS", "SPY", -2.0, 0.009, aum_usd=50e6),
            Fund("SSO", "SPY", 2.0, 0.0089, aum_usd=80e6),
            Fund("PSQ", "QQQ", -1.0, 0.0095, aum_usd=20e6),
        ),
    )


def book(
    u: Universe,
    quotes: Mapping[str, tuple[float, float]],
    ts_ns: int,
    size: float = 500.0,
    warm: int = 30,
) -> QuoteBook:
    """A book whose every symbol has `warm` identical quotes ending at `ts_ns`."""
    b = QuoteBook(u.symbols)
    syms = [s for s in u.symbols if s in quotes]
    for k in range(warm):
        t = ts_ns - (warm - 1 - k) * 1_000_000
        b.apply(quote_batch(b, {s: quotes[s] for s in syms}, t, size))
    return b


def quote_batch(
    b: QuoteBook, quotes: Mapping[str, tuple[float, float]], ts_ns: int, size: float = 500.0
) -> QuoteBatch:
    syms = list(quotes)
    n = len(syms)
    return QuoteBatch.of(
        [ts_ns] * n,
        [b.index[s] for s in syms],
        [quotes[s][0] for s in syms],
        [quotes[s][1] for s in syms],
        [size] * n,
        [size] * n,
    )


def event(
    u: Universe,
    ts_ns: int,
    mid: Mapping[str, float],
    premium_bp: Mapping[str, float] | None = None,
    flow_by_benchmark: Mapping[str, float] | None = None,
) -> InavEvaluated:
    syms = tuple(f.symbol for f in u.funds)
    prem = premium_bp or {}
    m = np.array([mid.get(s, np.nan) for s in syms])
    p = np.array([prem.get(s, 0.0) for s in syms])
    return InavEvaluated(
        ts_ns=ts_ns,
        symbols=syms,
        inav=m / (1 + p * 1e-4),
        mid=m,
        premium_bp=p,
        benchmark_move=np.zeros(len(syms)),
        flow_usd=np.zeros(len(syms)),
        flow_by_benchmark=dict(flow_by_benchmark or {}),
    )


def context(
    b: QuoteBook, now_ns: int, positions: Mapping[str, float] | None = None, day: date = DAY
) -> Context:
    return Context(now_ns, session(day), b, dict(positions or {}))


@dataclass
class Positions:
    """What the risk gates read of the account: the ledger and the open orders."""

    ledger: Ledger = field(default_factory=Ledger)
    open: dict[str, Order] = field(default_factory=dict)
