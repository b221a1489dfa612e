"""The report's plots (matplotlib, Agg): per fund price/premium/spread, P&L with position and the
equity curve. Each plot comes back as a PNG data URI, embedded in the one HTML file."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import pandas as pd

from inavd.analysis import date_axis, pyplot
from inavd.analysis.session import (
    SPREAD_K,
    SPREAD_WINDOW,
    PnL,
    Session,
    Thresholds,
    _value_at,
    local_times,
    premium_bp,
    spread_band,
)


def plot_fund(session: Session, symbol: str, th: list[Thresholds]) -> str | None:
    """Three panels for one fund; None when the fund has no priced snapshot to draw."""
    snaps = session.snapshots[session.snapshots["symbol"] == symbol].reset_index(drop=True)
    if snaps.empty or not snaps["mid"].notna().any():
        return None
    plt = pyplot()
    fig, (price, prem, spread) = plt.subplots(
        3, 1, figsize=(11, 9), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]}
    )
    t = local_times(snaps["ts_ns"])
    _draw_price(price, session, symbol, snaps, t)
    _draw_premium(prem, session, symbol, snaps, t, th)
    _draw_spread(spread, session, symbol, snaps, t)
    price.set_title(f"{symbol}: run {session.run.run_id}")
    spread.set_xlabel("time (America/New_York)")
    for ax in (price, prem, spread):
        date_axis(ax)
    return _save(plt, fig)


def _draw_price(
    ax: Any, session: Session, symbol: str, snaps: pd.DataFrame, t: pd.DatetimeIndex
) -> None:
    ax.plot(t, snaps["mid"], lw=1.0, color="tab:blue", label="mid")
    ax.plot(t, snaps["inav"], lw=1.0, color="tab:orange", label="iNAV")
    orders = session.orders[session.orders["symbol"] == symbol]
    if not orders.empty:
        # limit orders at their limit, market orders at the mid when they were sent
        at = orders["limit_price"].fillna(_value_at(snaps, "mid", orders["ts_ns"]))
        for side, marker, color in (("buy", "^", "tab:green"), ("sell", "v", "tab:red")):
            mask = (orders["side"].str.lower() == side).to_numpy()
            if mask.any():
                ax.scatter(
                    local_times(orders["ts_ns"][mask]),
                    at[mask],
                    marker=marker,
                    s=70,
                    facecolors="none",
                    edgecolors=color,
                    label=f"{side} order",
                )
    fills = session.fills[session.fills["symbol"] == symbol]
    for side, marker, color in (("buy", "^", "tab:green"), ("sell", "v", "tab:red")):
        mask = (fills["side"].str.lower() == side).to_numpy()
        if mask.any():
            ax.scatter(
                local_times(fills["ts_ns"][mask]),
                fills["price"][mask],
                marker=marker,
                s=40,
                color=color,
                zorder=3,
                label=f"{side} fill",
            )
    ax.set_ylabel("price (USD)")
    ax.legend(loc="best", fontsize=8, ncol=3)


def _draw_premium(
    ax: Any,
    session: Session,
    symbol: str,
    snaps: pd.DataFrame,
    t: pd.DatetimeIndex,
    th: list[Thresholds],
) -> None:
    premium = premium_bp(snaps)
    ax.plot(t, premium, lw=0.9, color="tab:purple", label="premium (+) / discount (−)")
    ax.axhline(0.0, color="black", lw=0.6)
    colors = ("tab:red", "tab:green", "tab:brown")
    for k, line in enumerate(th):  # each strategy trading this fund, with its own levels
        who = f"{line.source} " if line.source not in ("default", "run summary") else ""
        for level, style, name in ((line.entry_bp, "--", "entry"), (line.exit_bp, ":", "exit")):
            if not math.isfinite(level) or level <= 0:
                continue
            c = colors[k % len(colors)]
            ax.axhline(level, color=c, ls=style, lw=0.9, label=f"{who}±{name} {level:g} bp")
            ax.axhline(-level, color=c, ls=style, lw=0.9)
    sig = session.signals[session.signals["symbol"] == symbol]
    if not sig.empty:
        ax.scatter(
            local_times(sig["ts_ns"]),
            _value_at(snaps, "premium", sig["ts_ns"], premium),
            marker="o",
            s=18,
            color="black",
            zorder=3,
            label=f"signal ({len(sig)})",
        )
    ax.set_ylabel("premium (bp)")
    ax.legend(loc="best", fontsize=8, ncol=2)


def _draw_spread(
    ax: Any, session: Session, symbol: str, snaps: pd.DataFrame, t: pd.DatetimeIndex
) -> None:
    spread = snaps["spread_bp"]
    mean, std = spread_band(spread)
    ax.plot(t, spread, lw=0.8, color="tab:gray", label="spread")
    ax.plot(t, mean, lw=0.9, color="tab:blue", label=f"rolling mean ({SPREAD_WINDOW} snapshots)")
    ax.fill_between(
        t,
        (mean - SPREAD_K * std).clip(lower=0.0),
        mean + SPREAD_K * std,
        color="tab:blue",
        alpha=0.15,
        label=f"mean ± {SPREAD_K:g}σ",
    )
    den = session.denials
    den = den[(den["symbol"] == symbol) | den["symbol"].isna()]
    for gate, group in den.groupby("gate", sort=True):
        ax.scatter(
            local_times(group["ts_ns"]),
            _value_at(snaps, "spread_bp", group["ts_ns"]),
            marker="x",
            s=45,
            zorder=3,
            label=f"denied: {gate} ({len(group)})",
        )
    ax.set_ylabel("spread (bp)")
    ax.legend(loc="best", fontsize=8, ncol=2)


def plot_equity(equity: pd.Series, before_fees: pd.Series) -> str:
    """The equity curve: the run's P&L after fees (marked at the mids) over time."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(12, 4))
    t = local_times(equity.index.to_series())
    ax.plot(t, before_fees, lw=0.9, ls="--", color="tab:gray", label="before fees")
    ax.plot(t, equity, lw=1.8, color="black", label="after fees")
    ax.axhline(0.0, color="gray", lw=0.6)
    ax.set_ylabel("P&L (USD)")
    ax.set_title("Equity curve")
    ax.set_xlabel("time (America/New_York)")
    ax.legend(loc="upper left", fontsize=8)
    date_axis(ax)
    return _save(plt, fig)


def plot_pnl(pnl: PnL) -> str:
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6.5), sharex=True)
    t = local_times(pnl.pnl.index.to_series())
    symbols = [str(c) for c in pnl.pnl.columns]
    top.plot(t, pnl.total, lw=1.8, color="black", label="total")
    for symbol, color in zip(symbols, _colors(plt, len(symbols)), strict=True):
        top.plot(t, pnl.pnl[symbol], lw=0.9, color=color, label=symbol)
        bottom.step(t, pnl.position[symbol], where="post", lw=1.0, color=color, label=symbol)
    top.axhline(0.0, color="gray", lw=0.6)
    top.set_ylabel("P&L (USD, marked at mid)")
    top.set_title("Session P&L and position")
    bottom.set_ylabel("position (shares)")
    bottom.set_xlabel("time (America/New_York)")
    for ax in (top, bottom):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        date_axis(ax)
    return _save(plt, fig)


def _colors(plt: Any, n: int) -> list[Any]:
    """Distinct colours: tab10 repeats after ten lines, so use tab20's dark shades, then light."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    cmap = plt.get_cmap("tab20")
    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return [cmap(order[i % 20]) for i in range(n)]


# ------------------------------------------------------------------------------------------- html


def _save(plt: Any, fig: Any) -> str:
    """The figure as a PNG data URI (the report is one file that works on its own)."""
    fig.tight_layout()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=100)
    finally:
        plt.close(fig)  # pyplot keeps every open figure alive otherwise
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
