"""`build_signals`: the configured signals, each wrapped in the short-sale policy.

Targets are kept per strategy and summed per symbol by the router, so signals may share symbols;
the order of the list is the order their intents reach the router within one evaluation.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from inavd.costs import CostModel
from inavd.domain.events import InavEvaluated
from inavd.domain.instruments import Universe
from inavd.domain.intents import Intent
from inavd.errors import ConfigError
from inavd.risk.shorts import ShortPolicy, flat_instead
from inavd.settings import Settings
from inavd.signals._common import BenchmarkVols
from inavd.signals.base import Context, Signal
from inavd.signals.config import ShortMode
from inavd.signals.decay_monitor import DecayMonitor
from inavd.signals.mean_reversion import MeanReversion
from inavd.signals.moc_flow import MocFlow
from inavd.signals.premium_arb import PremiumArb
from inavd.signals.premium_reversion import PremiumReversion
from inavd.signals.vol_hedge import VolHedge
from inavd.signals.volatility import garch_daily_vol
from inavd.sizing.costs import VenueRoundTrip
from inavd.sizing.kelly import Sizer


class ShortAware:
    """Applies the short-sale policy to a signal's intents and unwinds substitutes it created."""

    def __init__(self, inner: Signal, policy: ShortPolicy, mode: ShortMode) -> None:
        self.inner = inner
        self.name = inner.name
        self.policy = policy
        self.mode = mode
        self.substitute: dict[str, str] = {}  # wanted short symbol → symbol held instead

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        intents = self.inner.on_inav(ev, ctx)
        if not intents:
            return intents
        out: list[Intent] = []
        for i in intents:
            if not self.policy.needs_translation(i):
                out.append(i)
                sub = self.substitute.pop(i.symbol, None) if self.substitute else None
                if sub is not None:  # the short is no longer wanted: unwind what stood in for it
                    out.append(
                        Intent(i.strategy, sub, 0.0, i.reason, i.order_type, i.time_in_force, None)
                    )
                continue
            out.append(flat_instead(i))
            if self.mode != "equivalent":
                continue
            alt = self.policy.equivalent(i, ctx.mid)
            if alt is not None:
                self.substitute[i.symbol] = alt.symbol
                out.append(alt)
        return out


def load_daily_returns(spec: str, before: date | None) -> dict[str, np.ndarray]:
    """Daily log returns per symbol from a `symbol,date,close[,adjusted_close]` CSV, using only
    closes strictly before `before` (no look-ahead into the traded session)."""
    if not spec:
        return {}
    sample = Path(str(files("inavd") / "data" / "sample" / "daily_closes.csv"))
    path = sample if spec == "sample" else Path(spec)
    try:
        st = path.stat()
        closes = _closes_by_symbol(path, st.st_mtime_ns, st.st_size)
    except (OSError, KeyError, ValueError, IndexError) as exc:
        raise ConfigError(f"strategies.vol_hedge.daily_closes: cannot read {path}: {exc}") from None
    out: dict[str, np.ndarray] = {}
    for sym, (dates, prices) in closes.items():
        n = len(dates) if before is None else bisect.bisect_left(dates, before.isoformat())
        out[sym] = np.diff(np.log(prices[:n])) if n > 1 else np.empty(0)
    return out


@lru_cache(maxsize=4)
def _closes_by_symbol(
    path: Path, _mtime_ns: int, _size: int
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each symbol's (sorted ISO dates, closes), read once per process while the file is
    unchanged (every replay's start-up reads it; a backtest worker once per day)."""
    rows: dict[str, list[tuple[str, float]]] = {}
    with path.open(newline="") as fh:
        reader = csv.reader(fh)  # by position: a DictReader row costs 4× more
        header = next(reader, [])
        s_col, d_col, c_col = (header.index(n) for n in ("symbol", "date", "close"))
        a_col = header.index("adjusted_close") if "adjusted_close" in header else -1
        for row in reader:
            adjusted = row[a_col] if 0 <= a_col < len(row) else ""
            px = float(adjusted or row[c_col])
            rows.setdefault(row[s_col], []).append((row[d_col], px))
    out = {}
    for sym, pairs in rows.items():
        pairs.sort()
        prices = np.array([p for _, p in pairs], dtype=np.float64)
        prices.flags.writeable = False  # shared between calls
        out[sym] = ([d for d, _ in pairs], prices)
    return out


def build_signals(
    settings: Settings,
    universe: Universe,
    day: date | None = None,
    sizer: Sizer | None = None,
    venue_lends: Callable[[str], bool] | None = None,
) -> list[Signal]:
    """`venue_lends`: the broker's word on borrow (the gates' venue rules), read when a signal
    wants a short; without it, the config's `risk.shortable` list and the universe's flags."""
    st = settings.strategies
    sizer = sizer or Sizer(settings.sizing, VenueRoundTrip(CostModel(settings.costs)))
    risk = settings.risk
    venue = set(risk.shortable) | {f.symbol for f in universe.funds if f.shortable}
    enabled = set(risk.short_symbols)
    lends = venue_lends or venue.__contains__
    policy = ShortPolicy(universe, lambda s: s in enabled and lends(s))
    funds = tuple(f.symbol for f in universe.funds)
    # one EWMA of each benchmark for the signals that all keep the same one (the core runs every
    # signal at every evaluation, so the shared estimate is each one's own)
    vols = BenchmarkVols()
    out: list[Signal] = [PremiumReversion(st.premium_reversion, funds, sizer)]
    if st.premium_arb.enabled:
        arb = PremiumArb(st.premium_arb, universe, sizer, policy.allowed, vols)
        out.append(ShortAware(arb, policy, st.premium_arb.short_mode))
    if st.moc_flow.enabled:
        moc = MocFlow(st.moc_flow, universe, sizer, vols)
        out.append(ShortAware(moc, policy, st.moc_flow.short_mode))
    if st.mean_reversion.enabled:
        out.append(MeanReversion(st.mean_reversion, universe, sizer))
    if st.vol_hedge.enabled:
        vh = st.vol_hedge
        rets = load_daily_returns(vh.daily_closes, day)
        daily = {
            b: garch_daily_vol(rets[b], vh.garch_min_obs)
            for b in vh.portfolio_beta_usd
            if b in rets
        }
        out.append(VolHedge(vh, universe, sizer, daily, vols))
    if st.decay_monitor.enabled:
        out.append(DecayMonitor(st.decay_monitor, universe, vols))
    return out
