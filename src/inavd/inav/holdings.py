"""Holdings-based iNAV (DOMAIN.md §2): cash + swaps + futures − accrued fees, per share.

Swap legs are worth N·(I/I_reset − 1). Futures legs are moved with their proxy: F(τ) = F_prev ·
I(τ)/I_prev (the basis is kept proportional), so a leg is worth n·m·F_prev·(I/I_prev − 1). Both are
"exposure × move", which lets one sparse sum over all legs price every fund at once.
"""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

from inavd.domain.instruments import Fund
from inavd.domain.quotes import F64


class HoldingsLegs(msgspec.Struct, frozen=True):
    fund_slot: npt.NDArray[np.int64]  # which fund (engine slot) each leg belongs to
    ref_book_idx: npt.NDArray[np.int64]  # the proxy instrument in the quote book
    exposure_usd: F64  # swap notional, or contracts × multiplier × prior settle
    fund_has_holdings: npt.NDArray[np.bool_]
    cash_net_usd: F64  # cash − accrued fees, per fund (0 where no holdings)
    shares: F64  # shares outstanding (1 where no holdings, to keep the division finite)


def build_legs(funds: tuple[Fund, ...], book_index: dict[str, int]) -> HoldingsLegs:
    slots: list[int] = []
    refs: list[int] = []
    exposure: list[float] = []
    n = len(funds)
    has = np.zeros(n, dtype=bool)
    cash = np.zeros(n)
    shares = np.ones(n)
    for i, f in enumerate(funds):
        h = f.holdings
        if h is None:
            continue
        has[i] = True
        cash[i] = h.cash_usd - h.accrued_fees_usd
        shares[i] = h.shares_outstanding
        for s in h.swaps:
            slots.append(i)
            refs.append(book_index[s.reference])
            exposure.append(s.notional_usd)
        for fut in h.futures:
            slots.append(i)
            refs.append(book_index[fut.reference])
            exposure.append(fut.contracts * fut.multiplier_usd * fut.prev_settle)
    return HoldingsLegs(
        fund_slot=np.asarray(slots, dtype=np.int64),
        ref_book_idx=np.asarray(refs, dtype=np.int64),
        exposure_usd=np.asarray(exposure, dtype=np.float64),
        fund_has_holdings=has,
        cash_net_usd=cash,
        shares=shares,
    )


def inav_holdings(legs: HoldingsLegs, ref_move: F64, n_funds: int) -> F64:
    """iNAV per share for every fund (meaningful only where `fund_has_holdings`)."""
    leg_value = legs.exposure_usd * ref_move[legs.ref_book_idx]
    total = np.bincount(legs.fund_slot, weights=leg_value, minlength=n_funds)
    return (legs.cash_net_usd + total) / legs.shares
