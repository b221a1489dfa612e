"""The iNAV hot path: every fund's iNAV, premium and rebalance flow in one vectorised pass.

Funds without a valid reference (prior NAV and benchmark prior close) get NaN and are flagged
`priced=False`; nothing downstream trades an unpriced fund.
"""

from __future__ import annotations

import msgspec
import numpy as np

from inavd.book.quote_book import QuoteBook
from inavd.domain.corporate import Adjustment
from inavd.domain.instruments import Fund, Universe
from inavd.domain.quotes import F64
from inavd.domain.units import NS_PER_S
from inavd.inav.daily_reset import DAYS_PER_YEAR, carry_rate
from inavd.inav.holdings import build_legs

YEAR_NS = DAYS_PER_YEAR * 86_400 * NS_PER_S


class Reference(msgspec.Struct, frozen=True):
    """Start-of-day reference: prior closes (benchmarks and funds) and prior NAVs (funds)."""

    prior_close: dict[str, float]
    prior_nav: dict[str, float]
    prior_strike_ns: int  # time of the prior NAV strike (the prior session's close)
    adjustments: tuple[Adjustment, ...] = ()  # corporate actions applied for this session
    official_nav: frozenset[str] = frozenset()  # funds whose prior NAV is the issuer's
    # issuer AUM at the prior strike
    aum_usd: dict[str, float] = msgspec.field(default_factory=dict)
    actions_source: str = "none"  # where the corporate actions came from


class InavResult(msgspec.Struct, frozen=True):
    ts_ns: int
    inav: F64
    mid: F64
    premium_bp: F64
    benchmark_move: F64
    flow_usd: F64
    flow_by_benchmark: F64


class InavEngine:
    def __init__(
        self,
        universe: Universe,
        book: QuoteBook,
        cash_rate: float,
        dividend_yield: dict[str, float] | None = None,
        flow_funds: tuple[Fund, ...] | None = None,
    ) -> None:
        self.universe = universe
        # the per-benchmark rebalance flow counts every configured fund, traded or not
        self.flow_funds = flow_funds if flow_funds is not None else universe.funds
        self.book = book
        funds = universe.funds
        n = len(funds)
        idx = book.index
        self.n_funds = n
        self.fund_symbols = tuple(f.symbol for f in funds)
        self.fund_idx = np.array([idx[f.symbol] for f in funds], dtype=np.int64)
        self.bench_idx = np.array([idx[f.benchmark] for f in funds], dtype=np.int64)
        bench_pos = {b: i for i, b in enumerate(universe.benchmarks)}
        self.bench_slot = np.array([bench_pos[f.benchmark] for f in funds], dtype=np.int64)
        self.leverage = np.array([f.leverage for f in funds], dtype=np.float64)
        self.aum = np.array([f.aum_usd for f in funds], dtype=np.float64)
        self.creations = np.array([f.net_creations_usd for f in funds], dtype=np.float64)
        dy = dividend_yield or {}
        self.carry = np.array(
            [
                carry_rate(f.leverage, cash_rate, dy.get(f.benchmark, 0.0), f.expense_ratio)
                for f in funds
            ]
        )
        self.rebalance_factor = self.leverage * self.leverage - self.leverage
        self.legs = build_legs(funds, idx)
        self.use_holdings = self.legs.fund_has_holdings
        self.any_holdings = bool(self.use_holdings.any())
        self.prior_nav = np.full(n, np.nan)
        self.prior_close = np.full(len(book.symbols), np.nan)  # per book instrument
        self.prior_strike_ns = 0
        self.priced = np.zeros(n, dtype=bool)
        self._alloc(n)

    def _alloc(self, n: int) -> None:
        n_book = len(self.book.symbols)
        self._mid_all = np.empty(n_book)
        self._move_all = np.empty(n_book)
        self._tmp = np.empty(n)
        # benchmark of each benchmark slot, and every fund's (L² − L)·AUM summed per benchmark:
        # all funds of a benchmark share its move, so the per-benchmark flow is one product
        bench_book = [self.book.index[b] for b in self.universe.benchmarks]
        self._bench_book_idx = np.array(bench_book, dtype=np.int64)
        self._flow_terms({})
        self._precompute_nav_terms()

    def _flow_terms(self, aum_override: dict[str, float]) -> None:
        """(L² − L)·AUM per fund, and summed per benchmark over every configured fund."""
        pairs = zip(self.fund_symbols, self.aum, strict=True)
        aum = np.array([aum_override.get(s, a) for s, a in pairs])
        self._flow_factor = self.rebalance_factor * aum
        self._flow_const = self.leverage * self.creations
        bench_pos = {b: i for i, b in enumerate(self.universe.benchmarks)}
        nb = len(bench_pos)
        flow = [f for f in self.flow_funds if f.benchmark in bench_pos]
        slot = np.array([bench_pos[f.benchmark] for f in flow], dtype=np.int64)
        factor = [f.rebalance_factor * aum_override.get(f.symbol, f.aum_usd) for f in flow]
        const = [f.leverage * f.net_creations_usd for f in flow]
        self._flow_factor_by_bench = np.bincount(slot, np.asarray(factor, dtype=float), nb)
        self._flow_const_by_bench = np.bincount(slot, np.asarray(const, dtype=float), nb)

    def _precompute_nav_terms(self) -> None:
        self._nav_lev = self.prior_nav * self.leverage  # NAV_{t−1}·L
        self._nav_carry = self.prior_nav * self.carry  # NAV_{t−1}·carry, per year

    def set_reference(self, ref: Reference) -> list[str]:
        """Install prior NAVs/closes; returns the funds excluded for lack of a valid reference."""
        for sym, i in self.book.index.items():
            self.prior_close[i] = _positive(ref.prior_close.get(sym))
        for j, sym in enumerate(self.fund_symbols):
            self.prior_nav[j] = _positive(ref.prior_nav.get(sym, ref.prior_close.get(sym)))
        self.prior_strike_ns = ref.prior_strike_ns
        bench_prior = self.prior_close[self.bench_idx]
        self.priced = np.isfinite(self.prior_nav) & np.isfinite(bench_prior)
        self.prior_nav = np.where(self.priced, self.prior_nav, np.nan)
        self._precompute_nav_terms()
        if ref.aum_usd:
            self._flow_terms(ref.aum_usd)
        return [s for s, ok in zip(self.fund_symbols, self.priced, strict=True) if not ok]

    def evaluate(self, now_ns: int) -> InavResult:
        """All funds at once. The arrays of the result are new on every call (safe to keep)."""
        b = self.book
        mid_all = np.add(b.bid, b.ask, out=self._mid_all)
        mid_all *= 0.5
        move_all = np.divide(mid_all, self.prior_close, out=self._move_all)
        move_all -= 1.0
        bmove = move_all[self.bench_idx]
        # iNAV = NAV·(1 + L·move + carry·δ) = NAV + NAV·L·move + NAV·carry·δ
        inav = np.multiply(self._nav_lev, bmove)
        inav += np.multiply(
            self._nav_carry, (now_ns - self.prior_strike_ns) / YEAR_NS, out=self._tmp
        )
        inav += self.prior_nav
        if self.any_holdings:
            np.copyto(inav, self._holdings_inav(move_all), where=self.use_holdings)
        mid = mid_all[self.fund_idx]
        prem = np.divide(mid, inav)
        prem -= 1.0
        prem *= 1e4
        flow = np.multiply(self._flow_factor, bmove)
        flow += self._flow_const
        by_bench = self._flow_factor_by_bench * move_all[self._bench_book_idx]
        by_bench += self._flow_const_by_bench
        return InavResult(now_ns, inav, mid, prem, bmove, flow, by_bench)

    def _holdings_inav(self, move_all: F64) -> F64:
        legs = self.legs
        value = legs.exposure_usd * move_all[legs.ref_book_idx]
        total = np.bincount(legs.fund_slot, weights=value, minlength=self.n_funds)
        return (legs.cash_net_usd + total) / legs.shares


def _positive(x: float | None) -> float:
    if x is None or not np.isfinite(x) or x <= 0:
        return float("nan")
    return float(x)
