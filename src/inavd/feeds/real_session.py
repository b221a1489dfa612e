"""A session of quotes built from every symbol's own real 1-minute bars.

Benchmarks and funds alike: within a minute that has a bar, the mid follows a Brownian bridge from
the bar's open to its close, kept inside the bar's [low, high] (a test checks this minute by
minute). Funds' bars are sparse (a thin fund does not trade every minute); in a minute without a
bar the fund's quote is repriced from its last real print by L times the benchmark's move since
that print, as a market maker hedging in the benchmark would do. No prior NAV and no iNAV formula
enter the quotes, so the premium a replay shows is the market's, not a model's.
The model-driven quotes of `inavd.feeds.synthetic` remain available as the `synthetic` option.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from inavd.calendar import session_for
from inavd.domain.instruments import Fund
from inavd.errors import DataError
from inavd.feeds.synthetic import (
    BENCHMARK_RATE,
    MINUTE_NS,
    TICK,
    SyntheticParams,
    _arrivals,
    _bridge_mid,
    _inject_bad_quotes,
    on_grid,
    quote_around,
)


@dataclass(frozen=True, slots=True)
class SpreadModel:
    """Quoted spread in ticks: a drawn 1–4 ticks, and at least `floor_bp` of the price (a $150
    fund is not quoted one cent wide)."""

    tick_probs: tuple[float, ...] = (0.6, 0.25, 0.1, 0.05)
    floor_bp: float = 1.5
    lot_mu: float = 0.9  # log of the typical displayed size in round lots


def _quotes(
    rng: np.random.Generator, mid: np.ndarray, probs: tuple[float, ...], floor_bp: float, mu: float
) -> tuple[np.ndarray, ...]:
    drawn = rng.choice(np.arange(1, len(probs) + 1), size=mid.shape[0], p=list(probs))
    floor = np.ceil(mid * floor_bp * 1e-4 / TICK - 1e-9) if floor_bp > 0 else 1
    return quote_around(rng, mid, np.maximum(drawn, floor), mu)


def fund_mid(
    rng: np.random.Generator,
    grid: pd.DataFrame,
    has_bar: np.ndarray,
    ts: np.ndarray,
    minute: np.ndarray,
    open_ns: int,
    leverage: float,
    bench: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Bridge inside real bars; between bars, the last print moved by L × the benchmark."""
    mid = _bridge_mid(rng, grid, ts, minute, open_ns)
    idx = np.arange(len(grid))
    last_bar = np.maximum.accumulate(np.where(has_bar, idx, -1))
    first_bar = int(np.argmax(has_bar))
    in_gap = ~has_bar[minute]
    if not in_gap.any():
        return mid
    anchor_min = last_bar[minute[in_gap]]
    before_first = anchor_min < 0
    close = grid["Close"].to_numpy(float)
    open_ = grid["Open"].to_numpy(float)
    # the anchor: the last bar's close at the end of its minute, or the day's first open
    anchor_px = np.where(before_first, open_[first_bar], close[np.maximum(anchor_min, 0)])
    anchor_ns = np.where(
        before_first, open_ns + first_bar * MINUTE_NS, open_ns + (anchor_min + 1) * MINUTE_NS
    )
    bts, bmid = bench
    move = np.interp(ts[in_gap], bts, bmid) / np.interp(anchor_ns, bts, bmid) - 1.0
    mid[in_gap] = anchor_px * (1.0 + leverage * move)
    return mid


def build_real_session(
    day: date,
    bars: dict[str, pd.DataFrame],
    benchmarks: list[str],
    funds: list[Fund],
    seed: int,
    params: SyntheticParams | None = None,
    spreads: SpreadModel | None = None,
) -> pd.DataFrame:
    """The quote table (ts, symbol, bid, ask, bid_size, ask_size) of one session, time-ordered.
    `bars`: each symbol's real bars of the day (ET minute index; Open, High, Low, Close, Volume)."""
    p = params or SyntheticParams()
    sm = spreads or SpreadModel()
    session = session_for(day)
    if session is None:
        raise DataError(f"{day} is not an XNYS session")
    rng = np.random.default_rng(seed)
    frames: list[Quotes] = []
    bench_path: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for sym in benchmarks:
        grid, _ = on_grid(bars[sym], session, sym)
        rate = BENCHMARK_RATE.get(sym, p.benchmark_rate_per_s)
        ts, minute = _arrivals(rng, grid, rate, session.open_ns)
        mid = _bridge_mid(rng, grid, ts, minute, session.open_ns)
        bench_path[sym] = (ts, mid)
        frames.append(_part(sym, ts, _quotes(rng, mid, (0.85, 0.12, 0.03), 0.0, 1.2)))
    for fund in funds:
        grid, has_bar = on_grid(bars[fund.symbol], session, fund.symbol)
        ts, minute = _arrivals(rng, grid, p.fund_rate_per_s, session.open_ns)
        mid = fund_mid(
            rng, grid, has_bar, ts, minute, session.open_ns, fund.leverage,
            bench_path[fund.benchmark],
        )  # fmt: skip
        quotes = _quotes(rng, mid, sm.tick_probs, sm.floor_bp, sm.lot_mu)
        frames.append(_part(fund.symbol, ts, quotes))
    return _inject_bad_quotes(rng, time_ordered(frames), p.bad_quote_fraction)


Quotes = tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _part(sym: str, ts: np.ndarray, quotes: tuple[np.ndarray, ...]) -> Quotes:
    bid, ask, bid_size, ask_size = quotes
    return (sym, ts, bid, ask, bid_size, ask_size)


def time_ordered(parts: list[Quotes]) -> pd.DataFrame:
    """Each symbol's (symbol, ts, bid, ask, bid_size, ask_size) merged into one table in time
    order (stable: the order of `parts` breaks ties), the symbol as a category. Column by
    column, so a day of a million quotes needs about two copies of one column at a time on top
    of the parts, not several copies of the whole table."""
    ts = np.concatenate([p[1] for p in parts])
    order = np.argsort(ts, kind="stable")
    symbols = sorted({p[0] for p in parts})
    code = {s: np.int8(i) for i, s in enumerate(symbols)}
    codes = np.concatenate([np.full(len(p[1]), code[p[0]]) for p in parts])
    cols: dict[str, object] = {
        "ts": ts[order],
        "symbol": pd.Categorical.from_codes(codes[order], categories=pd.Index(symbols)),
    }
    del ts, codes
    for j, name in enumerate(("bid", "ask", "bid_size", "ask_size"), start=2):
        cols[name] = np.concatenate([p[j] for p in parts])[order]
    return pd.DataFrame(cols, copy=False)
