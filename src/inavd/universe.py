"""Turn the validated universe spec into domain objects (benchmarks first, then funds)."""

from __future__ import annotations

from datetime import date

import structlog

from inavd.domain.instruments import Fund, FuturesLeg, Holdings, SwapLeg, Universe
from inavd.settings import FundSpec, UniverseSpec

log = structlog.get_logger(__name__)


def build_universe(
    spec: UniverseSpec, only: set[str] | None = None, prior_session: date | None = None
) -> Universe:
    """`only` restricts the funds (their benchmarks are always kept). A published basket is used
    only when it was struck at `prior_session`'s close: a stale basket would misprice the fund."""
    funds = tuple(
        _fund(sym, f, prior_session) for sym, f in spec.funds.items() if only is None or sym in only
    )
    return Universe(benchmarks=tuple(spec.benchmarks), funds=funds)


def _fund(symbol: str, f: FundSpec, prior_session: date | None) -> Fund:
    holdings = None
    if f.holdings is not None and prior_session is not None and f.holdings.as_of != prior_session:
        log.warning(
            "holdings are stale; pricing with the daily-reset model",
            fund=symbol,
            holdings_as_of=f.holdings.as_of.isoformat(),
            prior_session=prior_session.isoformat(),
        )
    elif f.holdings is not None:
        h = f.holdings
        holdings = Holdings(
            shares_outstanding=h.shares_outstanding,
            cash_usd=h.cash_usd,
            accrued_fees_usd=h.accrued_fees_usd,
            swaps=tuple(SwapLeg(s.reference, s.notional_usd) for s in h.swaps),
            futures=tuple(
                FuturesLeg(x.reference, x.contracts, x.multiplier_usd, x.prev_settle)
                for x in h.futures
            ),
        )
    return Fund(
        symbol=symbol,
        benchmark=f.benchmark,
        leverage=f.leverage,
        expense_ratio=f.expense_ratio,
        aum_usd=f.aum_usd,
        net_creations_usd=f.net_creations_usd,
        holdings=holdings,
        shortable=f.shortable,
    )
