"""Quote book: one slot per instrument in numpy arrays, updated from columnar quote batches.

Bad quotes are rejected with a reason and counted, never applied. Rolling spread statistics are
exponentially weighted over quotes (half-life `spread_halflife` quotes) and feed the 3σ spread gate.
"""

from __future__ import annotations

from enum import IntEnum

import msgspec
import numpy as np

from inavd.domain.quotes import F64, I64, QuoteBatch
from inavd.domain.units import NS_PER_S


class RejectReason(IntEnum):
    UNKNOWN_SYMBOL = 0
    NOT_FINITE = 1
    NON_POSITIVE = 2
    CROSSED = 3
    OUT_OF_ORDER = 4
    OUTLIER = 5


class SanityBand(msgspec.Struct, frozen=True):
    """A quote whose mid is more than `jump_ratio`× from the symbol's last valid mid (when that
    is at most `jump_window_s` old) or more than `close_ratio`× from its prior close is an
    outlier. Ratios are symmetric: 1.25 accepts 0.8× … 1.25×."""

    jump_ratio: float = 1.25
    jump_window_s: float = 60.0
    close_ratio: float = 4.0


class QuoteBook:
    def __init__(
        self,
        symbols: tuple[str, ...],
        spread_halflife: float = 200.0,
        sanity: SanityBand | None = None,
    ) -> None:
        n = len(symbols)
        self.sanity = sanity
        self.prior_close: F64 = np.full(n, np.nan)
        self.symbols = symbols
        self.index = {s: i for i, s in enumerate(symbols)}
        self.bid: F64 = np.full(n, np.nan)
        self.ask: F64 = np.full(n, np.nan)
        self.bid_size: F64 = np.zeros(n)
        self.ask_size: F64 = np.zeros(n)
        self.last_ns: I64 = np.zeros(n, dtype=np.int64)
        self.updates: I64 = np.zeros(n, dtype=np.int64)
        self.spread_mean_bp: F64 = np.full(n, np.nan)
        self.spread_var_bp2: F64 = np.zeros(n)
        self._decay = 0.5 ** (1.0 / spread_halflife)  # per-quote weight kept by the EWMA
        self.accepted = 0
        self.rejected = np.zeros(len(RejectReason), dtype=np.int64)

    # ------------------------------------------------------------------ reads
    @property
    def mid(self) -> F64:
        return (self.bid + self.ask) * 0.5

    @property
    def spread_bp(self) -> F64:
        return (self.ask - self.bid) / self.mid * 1e4

    @property
    def spread_std_bp(self) -> F64:
        return np.sqrt(self.spread_var_bp2)

    def age_s(self, now_ns: int) -> F64:
        """Seconds since each instrument's last accepted quote (inf if it never had one)."""
        age = (now_ns - self.last_ns) / NS_PER_S
        return np.where(self.updates > 0, age, np.inf)

    def rejected_by_reason(self) -> dict[str, int]:
        return {r.name.lower(): int(self.rejected[r]) for r in RejectReason}

    @property
    def rejected_total(self) -> int:
        return int(self.rejected.sum())

    # ------------------------------------------------------------------ writes
    def set_prior_close(self, closes: dict[str, float]) -> None:
        """The sanity band's second reference (the start-of-day prior closes)."""
        for sym, px in closes.items():
            i = self.index.get(sym)
            if i is not None:
                self.prior_close[i] = px

    def apply(self, q: QuoteBatch) -> int:
        """Validate and apply a batch; returns the number of quotes accepted."""
        n = len(q)
        if n == 0:
            return 0
        ok = self._validate(q)
        if not ok.all():
            q = _select(q, ok)
        k = len(q)
        if k:
            self._apply_valid(q)
        self.accepted += k
        return k

    def _validate(self, q: QuoteBatch) -> np.ndarray:
        nsym = len(self.symbols)
        reasons = np.full(len(q), -1, dtype=np.int8)
        known = (q.sym >= 0) & (q.sym < nsym)
        # a later check never overwrites an earlier reason: assign in reverse priority order
        sym = np.where(known, q.sym, 0)
        last = self.last_ns[sym]
        out_of_order = q.ts_ns < last
        if not _is_sorted(q.ts_ns):
            out_of_order |= _out_of_order_within(q.ts_ns, sym)
        reasons[out_of_order] = RejectReason.OUT_OF_ORDER
        if self.sanity is not None:
            reasons[self._outliers(q, sym, self.sanity)] = RejectReason.OUTLIER
        reasons[q.bid > q.ask] = RejectReason.CROSSED
        reasons[(q.bid <= 0) | (q.ask <= 0) | (q.bid_size < 0) | (q.ask_size < 0)] = (
            RejectReason.NON_POSITIVE
        )
        finite = (
            np.isfinite(q.bid)
            & np.isfinite(q.ask)
            & np.isfinite(q.bid_size)
            & np.isfinite(q.ask_size)
        )
        reasons[~finite] = RejectReason.NOT_FINITE
        reasons[~known] = RejectReason.UNKNOWN_SYMBOL
        bad = reasons >= 0
        if bad.any():
            self.rejected += np.bincount(reasons[bad], minlength=len(RejectReason))
        return ~bad

    def _outliers(self, q: QuoteBatch, sym: np.ndarray, band: SanityBand) -> np.ndarray:
        """Vectorised against the book as it was before the batch."""
        with np.errstate(all="ignore"):
            mid = (q.bid + q.ask) * 0.5
            ref = (self.bid[sym] + self.ask[sym]) * 0.5
            recent = (self.updates[sym] > 0) & (
                q.ts_ns - self.last_ns[sym] <= band.jump_window_s * NS_PER_S
            )
            jump = recent & (np.abs(np.log(mid / ref)) > np.log(band.jump_ratio))
            close = self.prior_close[sym]
            far = np.abs(np.log(mid / close)) > np.log(band.close_ratio)
        return np.asarray(jump | far, dtype=bool)

    def _apply_valid(self, q: QuoteBatch) -> None:
        nsym = len(self.symbols)
        # the last quote of each symbol in the batch wins (batches are in arrival order)
        last_idx = np.full(nsym, -1, dtype=np.int64)
        np.maximum.at(last_idx, q.sym, np.arange(len(q), dtype=np.int64))
        touched = np.nonzero(last_idx >= 0)[0]
        li = last_idx[touched]
        self.bid[touched] = q.bid[li]
        self.ask[touched] = q.ask[li]
        self.bid_size[touched] = q.bid_size[li]
        self.ask_size[touched] = q.ask_size[li]
        self.last_ns[touched] = q.ts_ns[li]
        self._update_spread_stats(q, nsym)

    def _update_spread_stats(self, q: QuoteBatch, nsym: int) -> None:
        # Batched EWMA: a symbol with k quotes in the batch decays by d**k and moves toward the
        # batch's mean spread; identical to the per-quote EWMA when k = 1.
        spread = (q.ask - q.bid) / ((q.ask + q.bid) * 0.5) * 1e4
        counts = np.bincount(q.sym, minlength=nsym)
        touched = counts > 0
        c = counts[touched]
        s1 = np.bincount(q.sym, weights=spread, minlength=nsym)[touched] / c
        s2 = np.bincount(q.sym, weights=spread * spread, minlength=nsym)[touched] / c
        keep = self._decay**c
        first = self.updates[touched] == 0
        mean = self.spread_mean_bp[touched]
        var = self.spread_var_bp2[touched]
        ex2 = np.where(first, s2, keep * (var + mean * mean) + (1 - keep) * s2)
        new_mean = np.where(first, s1, keep * mean + (1 - keep) * s1)
        self.spread_mean_bp[touched] = new_mean
        self.spread_var_bp2[touched] = np.maximum(ex2 - new_mean * new_mean, 0.0)
        self.updates[touched] += c


def _is_sorted(ts: I64) -> bool:
    return bool(ts.shape[0] < 2 or (ts[1:] >= ts[:-1]).all())


def _out_of_order_within(ts: I64, sym: np.ndarray) -> np.ndarray:
    """True where a quote is older than an earlier quote of the same symbol in the batch."""
    n = ts.shape[0]
    order = np.lexsort((np.arange(n), sym))  # group by symbol, keep arrival order
    ts_sorted = ts[order]
    sym_sorted = sym[order]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(ts_sorted, kind="stable")] = np.arange(n)
    # offset each symbol group so one running maximum cannot leak into the next group
    keyed = rank + sym_sorted.astype(np.int64) * n
    running = np.maximum.accumulate(keyed)
    prev_max = np.empty(n, dtype=np.int64)
    prev_max[0] = -1
    prev_max[1:] = running[:-1]
    same_group = np.empty(n, dtype=bool)
    same_group[0] = False
    same_group[1:] = sym_sorted[1:] == sym_sorted[:-1]
    bad_sorted = same_group & (prev_max > keyed)
    out = np.zeros(n, dtype=bool)
    out[order] = bad_sorted
    return out


def _select(q: QuoteBatch, mask: np.ndarray) -> QuoteBatch:
    return QuoteBatch(
        q.ts_ns[mask], q.sym[mask], q.bid[mask], q.ask[mask], q.bid_size[mask], q.ask_size[mask]
    )
