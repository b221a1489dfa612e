"""Replay a quote table through the book and the iNAV engine; premiums sampled once a minute."""

from __future__ import annotations

import numpy as np
import pandas as pd

from inavd.book.quote_book import QuoteBook
from inavd.domain.instruments import Universe
from inavd.feeds.columns import to_batch
from inavd.inav.engine import InavEngine, Reference

MINUTE_NS = 60_000_000_000


def minute_premiums(
    quotes: pd.DataFrame, universe: Universe, ref: Reference, cash_rate: float = 0.0155
) -> pd.DataFrame:
    """Premium (bp) of every fund at the end of every minute, one row per minute."""
    book = QuoteBook(universe.symbols)
    engine = InavEngine(universe, book, cash_rate)
    engine.set_reference(ref)
    batch = to_batch(quotes, book.index)
    ts = batch.ts_ns
    edges = np.arange((ts[0] // MINUTE_NS + 1) * MINUTE_NS, ts[-1] + MINUTE_NS, MINUTE_NS)
    cuts = np.searchsorted(ts, edges, side="left")
    rows, start = [], 0
    for edge, cut in zip(edges, cuts, strict=True):
        book.apply(batch.slice(start, int(cut)))
        start = int(cut)
        rows.append(engine.evaluate(int(edge)).premium_bp.copy())
    return pd.DataFrame(rows, index=edges, columns=list(engine.fund_symbols))


def bars_as_quotes(bars: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One zero-width quote at each real bar's close (bars indexed by ET minute start)."""
    frames = []
    for sym, b in bars.items():
        ts = b.index.tz_convert("UTC").as_unit("ns").asi8 + MINUTE_NS - 1
        px = b["Close"].to_numpy(float)
        frames.append(
            pd.DataFrame(
                {"ts": ts, "symbol": sym, "bid": px, "ask": px, "bid_size": 100.0,
                 "ask_size": 100.0}
            )
        )
    return pd.concat(frames).sort_values("ts", kind="stable", ignore_index=True)
