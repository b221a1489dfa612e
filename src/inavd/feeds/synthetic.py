"""Deterministic, seeded quote streams built from 1-minute bars.

Benchmarks: within each minute the mid follows a Brownian bridge from the bar's open to its close,
kept inside [low, high]; quote arrivals are Poisson with an intensity that follows the bar's volume.
Funds: the mid follows the daily-reset relation to the benchmark's quoted path with the carry
accrued since the prior close, `prior_nav · (1 + L · move + carry · δ)`, times an
Ornstein–Uhlenbeck premium of a few bp; the fund's own bars set its quote intensity (its 1-minute
prints are too stale to be a price path, DOMAIN.md §5).
Quotes sit on a $0.01 grid with spreads of one or more ticks and lognormal round-lot sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from inavd.calendar import Session, previous_session_day, session_for
from inavd.clock import NY
from inavd.domain.instruments import Fund
from inavd.domain.units import NS_PER_S
from inavd.errors import DataError
from inavd.inav.daily_reset import carry_rate
from inavd.inav.engine import YEAR_NS

TICK = 0.01
MINUTE_NS = 60 * NS_PER_S


@dataclass(frozen=True, slots=True)
class SyntheticParams:
    benchmark_rate_per_s: float = 9.0
    fund_rate_per_s: float = 2.4
    premium_bp_per_leverage: float = 2.5  # OU premium std per unit of |L| (SH ≈ 2.5 bp)
    premium_halflife_s: float = 90.0
    bad_quote_fraction: float = 5e-5  # crossed / zero quotes a real feed also delivers
    cash_rate: float = 0.0155  # funds trade around NAV, and NAV accrues carry since the prior close


BENCHMARK_RATE = {"SPY": 14.0, "QQQ": 9.0, "IWM": 6.0, "DIA": 4.0}


def read_bar_file(path: Path) -> pd.DataFrame:
    """A yfinance-style bar CSV (`Datetime,Open,High,Low,Close,Volume`) indexed by ET time,
    duplicate timestamps dropped (the first kept)."""
    try:
        raw = pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    tcol = "Datetime" if "Datetime" in raw.columns else raw.columns[0]
    need = {"Open", "High", "Low", "Close", "Volume"}
    if not need <= set(raw.columns):
        raise DataError(f"{path}: missing column(s) {sorted(need - set(raw.columns))}")
    ts = pd.to_datetime(raw[tcol], utc=True, errors="coerce")
    if ts.isna().any():
        raise DataError(f"{path}: unparsable timestamps in column {tcol}")
    raw.index = pd.DatetimeIndex(ts).tz_convert(NY)
    raw = raw[~raw.index.duplicated(keep="first")]
    return raw.loc[:, ["Open", "High", "Low", "Close", "Volume"]]


def on_grid(bars: pd.DataFrame, session: Session, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Bars on the session's full minute grid (gaps carry the last close, zero volume), and
    which minutes had a real bar."""
    grid = pd.date_range(
        pd.Timestamp(session.open_ns, tz="UTC"),
        pd.Timestamp(session.close_ns, tz="UTC"),
        freq="1min",
        inclusive="left",
    ).tz_convert(NY)
    out = bars.loc[:, ["Open", "High", "Low", "Close", "Volume"]].reindex(grid)
    has_bar = out["Close"].notna().to_numpy()
    if not has_bar.any():
        raise DataError(f"{name}: no bars on {session.day}")
    close = out["Close"].ffill().bfill()
    for col in ("Open", "High", "Low"):
        out[col] = out[col].fillna(close)
    out["Close"] = close
    out["Volume"] = out["Volume"].fillna(0.0)
    return out, has_bar


def load_bars(path: Path, day: date, min_coverage: float = 0.5) -> pd.DataFrame:
    """One session of 1-minute bars on the full minute grid (gaps carry the last close).

    `min_coverage`: the share of minutes that must have a bar. Benchmarks need half (their bars are
    the price path); funds' bars only set quote intensity, so a quarter is enough."""
    raw = read_bar_file(path)
    session = session_for(day)
    if session is None:
        raise DataError(f"{day} is not an XNYS session")
    day_bars = raw[pd.DatetimeIndex(raw.index).date == day]
    minutes = (session.close_ns - session.open_ns) // MINUTE_NS
    if len(day_bars) < minutes * min_coverage:
        raise DataError(f"{path}: fewer than {min_coverage:.0%} of the minutes of {day} have bars")
    grid, has_bar = on_grid(day_bars, session, str(path))
    if has_bar.sum() < minutes * min_coverage:
        raise DataError(f"{path}: fewer than {min_coverage:.0%} of the minutes of {day} have bars")
    return grid


def _arrivals(
    rng: np.random.Generator, bars: pd.DataFrame, rate_per_s: float, start_ns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Quote times (ns) and the minute each falls in."""
    vol = bars["Volume"].to_numpy(dtype=float)
    rel = vol / vol.mean() if vol.mean() > 0 else np.ones_like(vol)
    lam = rate_per_s * 60.0 * (0.3 + 0.7 * np.minimum(rel, 8.0))
    counts = rng.poisson(lam)
    minute = np.repeat(np.arange(len(bars)), counts)
    offset = rng.integers(0, MINUTE_NS, size=minute.shape[0])
    ts = start_ns + minute.astype(np.int64) * MINUTE_NS + offset
    order = np.argsort(ts, kind="stable")
    return ts[order], minute[order]


def _bridge_mid(
    rng: np.random.Generator, bars: pd.DataFrame, ts: np.ndarray, minute: np.ndarray, start_ns: int
) -> np.ndarray:
    o = bars["Open"].to_numpy(float)[minute]
    c = bars["Close"].to_numpy(float)[minute]
    hi = bars["High"].to_numpy(float)[minute]
    lo = bars["Low"].to_numpy(float)[minute]
    u: np.ndarray = (ts - start_ns - minute.astype(np.int64) * MINUTE_NS) / MINUTE_NS
    # Brownian bridge pinned at 0 at both ends of the minute, scaled by the bar's range
    w = np.asarray(rng.standard_normal(ts.shape[0]), dtype=np.float64)
    wiener = np.cumsum(w)
    first = np.r_[True, minute[1:] != minute[:-1]]
    seg_start = np.maximum.accumulate(np.where(first, np.arange(ts.shape[0]), 0))
    base = wiener[seg_start] - w[seg_start]
    local: np.ndarray = wiener - base
    counts = np.bincount(minute, minlength=len(bars))[minute]
    bridge = (local - u * local[_seg_last(minute)]) / np.sqrt(np.maximum(counts, 1))
    mid = o + (c - o) * u + bridge * (hi - lo) * 0.5
    clipped: np.ndarray = np.clip(mid, lo, hi)
    return clipped


def _seg_last(minute: np.ndarray) -> np.ndarray:
    last = np.r_[minute[1:] != minute[:-1], True]
    idx = np.where(last, np.arange(minute.shape[0]), minute.shape[0])
    return np.minimum.accumulate(idx[::-1])[::-1]


def _quote_from_mid(
    rng: np.random.Generator, mid: np.ndarray, tick_probs: list[float], lot_mu: float
) -> tuple[np.ndarray, ...]:
    ticks = rng.choice(np.arange(1, len(tick_probs) + 1), size=mid.shape[0], p=tick_probs)
    return quote_around(rng, mid, ticks, lot_mu)


def quote_around(
    rng: np.random.Generator, mid: np.ndarray, ticks: np.ndarray, lot_mu: float
) -> tuple[np.ndarray, ...]:
    """Bid/ask `ticks` wide on the tick grid around `mid`, lognormal round-lot sizes."""
    bid = np.round(mid / TICK - ticks / 2.0) * TICK
    ask = bid + ticks * TICK
    bid_size = 100.0 * np.ceil(np.exp(rng.normal(lot_mu, 0.8, mid.shape[0])))
    ask_size = 100.0 * np.ceil(np.exp(rng.normal(lot_mu, 0.8, mid.shape[0])))
    return np.round(bid, 2), np.round(ask, 2), bid_size, ask_size


def _ou_premium_bp(
    rng: np.random.Generator, n_seconds: int, std_bp: float, halflife_s: float
) -> np.ndarray:
    from scipy.signal import lfilter  # only the synthetic option needs scipy

    phi = 0.5 ** (1.0 / halflife_s)
    eps = rng.standard_normal(n_seconds) * std_bp * np.sqrt(1.0 - phi * phi)
    path: np.ndarray = lfilter([1.0], [1.0, -phi], eps)
    return path


def generate_session(
    day: date,
    bars_dir: Path,
    benchmarks: list[str],
    funds: list[Fund],
    prior_close: dict[str, float],
    prior_nav: dict[str, float],
    seed: int,
    params: SyntheticParams | None = None,
    bars: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The quote table (ts, symbol, bid, ask, bid_size, ask_size) of one session, time-ordered.
    Bars come from `bars_dir/<SYMBOL>.csv`, or from `bars` (each symbol's bars of the day)."""
    p = params or SyntheticParams()
    session = session_for(day)
    if session is None:
        raise DataError(f"{day} is not an XNYS session")
    prior_session = session_for(previous_session_day(day))
    prior_strike_ns = prior_session.close_ns if prior_session else session.open_ns
    rng = np.random.default_rng(seed)
    frames: list[pd.DataFrame] = []
    bench_path: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for sym in benchmarks:
        grid = _day_grid(bars, bars_dir, sym, session, 0.5)
        ts, minute = _arrivals(
            rng, grid, BENCHMARK_RATE.get(sym, p.benchmark_rate_per_s), session.open_ns
        )
        mid = _bridge_mid(rng, grid, ts, minute, session.open_ns)
        bench_path[sym] = (ts, mid)
        frames.append(_frame(sym, ts, *_quote_from_mid(rng, mid, [0.85, 0.12, 0.03], 1.2)))
    n_seconds = int((session.close_ns - session.open_ns) // NS_PER_S) + 1
    for fund in funds:
        grid = _day_grid(bars, bars_dir, fund.symbol, session, 0.25)
        ts, _ = _arrivals(rng, grid, p.fund_rate_per_s, session.open_ns)
        bts, bmid = bench_path[fund.benchmark]
        move = np.interp(ts, bts, bmid) / prior_close[fund.benchmark] - 1.0
        prem = _ou_premium_bp(
            rng, n_seconds, p.premium_bp_per_leverage * abs(fund.leverage), p.premium_halflife_s
        )
        sec = ((ts - session.open_ns) // NS_PER_S).astype(np.int64)
        carry = carry_rate(fund.leverage, p.cash_rate, 0.0, fund.expense_ratio)
        accrual = (ts - prior_strike_ns) / YEAR_NS
        fair = prior_nav[fund.symbol] * (1.0 + fund.leverage * move + carry * accrual)
        mid = fair * (1.0 + prem[sec] * 1e-4)
        frames.append(
            _frame(fund.symbol, ts, *_quote_from_mid(rng, mid, [0.6, 0.25, 0.1, 0.05], 0.9))
        )
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values("ts", kind="stable", ignore_index=True)
    return _inject_bad_quotes(rng, df, p.bad_quote_fraction)


def _day_grid(
    bars: dict[str, pd.DataFrame] | None,
    bars_dir: Path,
    sym: str,
    session: Session,
    min_coverage: float,
) -> pd.DataFrame:
    if bars is None:
        return load_bars(bars_dir / f"{sym}.csv", session.day, min_coverage)
    grid, _ = on_grid(bars[sym], session, sym)
    return grid


def _frame(
    sym: str, ts: np.ndarray, bid: np.ndarray, ask: np.ndarray, bs: np.ndarray, az: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {"ts": ts, "symbol": sym, "bid": bid, "ask": ask, "bid_size": bs, "ask_size": az}
    )


def _inject_bad_quotes(rng: np.random.Generator, df: pd.DataFrame, fraction: float) -> pd.DataFrame:
    n_bad = int(len(df) * fraction)
    if n_bad == 0:
        return df
    rows = rng.choice(len(df), size=n_bad, replace=False)
    crossed, zero = rows[: n_bad // 2], rows[n_bad // 2 :]
    bid = df["bid"].to_numpy(copy=True)
    ask = df["ask"].to_numpy(copy=True)
    bid[crossed], ask[crossed] = ask[crossed] + TICK, bid[crossed]
    bid[zero] = 0.0
    df["bid"] = bid
    df["ask"] = ask
    return df
