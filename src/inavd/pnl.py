"""P&L after costs, for the account and per strategy, from the run's fills.

Every fill is attributed to the strategy of the order that produced it. Each strategy keeps its own
average-cost ledger, so its realised and unrealised P&L are its own; because cash and positions add
up across ledgers, the strategies' totals sum to the account's total (realised and unrealised split
differently when two strategies trade one symbol against each other). Open positions are marked at
the marks given (the official close or the closing mid); a short held over the close pays a day of
borrow, counted with the fees.

The summary's keys (`pnl.realized`, `pnl.unrealized`, `pnl.fees`, `pnl.total`, `pnl.by_strategy`,
`turnover`, `round_trips`) are read by backtests and sweeps: keep them stable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from inavd.book.quote_book import QuoteBook
from inavd.brokers.paper_close import ClosingAuction
from inavd.costs import CostModel
from inavd.domain.ledger import Ledger
from inavd.domain.orders import Fill, Side
from inavd.execution.journal import Journal

UNATTRIBUTED = "unattributed"  # fills of orders the daemon did not place (adopted at start-up)


def _money(x: float) -> float:
    return round(x, 2) + 0.0  # no "-0.0" in reports


def _ledger_pnl(
    ledger: Ledger, marks: Mapping[str, float], costs: CostModel | None, overnight: bool
) -> dict[str, float]:
    unrealized = sum(
        q * (marks[s] - ledger.avg_price[s]) for s, q in ledger.qty.items() if s in marks
    )
    borrow = 0.0
    if overnight and costs is not None:
        borrow = sum(
            costs.borrow(s, q, marks[s]) for s, q in ledger.qty.items() if q < 0 and s in marks
        )
    fees = ledger.fees_usd + borrow
    return {
        "realized": _money(ledger.realized_pnl_usd),
        "unrealized": _money(unrealized),
        "fees": _money(fees),
        "total": _money(ledger.realized_pnl_usd + unrealized - fees),
    }


def pnl_summary(
    fills: Iterable[tuple[Fill, str]],
    marks: Mapping[str, float],
    costs: CostModel | None = None,
    overnight: bool = False,
) -> dict[str, Any]:
    """`{"pnl": {...}, "turnover": USD, "round_trips": n}` for fills given in execution order.

    `overnight`: the marks are the session's closing prints and open shorts are held over the
    close (they pay borrow).
    """
    account = Ledger()
    per: dict[str, Ledger] = {}
    for fill, strategy in fills:
        account.apply(fill)
        per.setdefault(strategy or UNATTRIBUTED, Ledger()).apply(fill)
    pnl: dict[str, Any] = _ledger_pnl(account, marks, costs, overnight)
    pnl["by_strategy"] = {
        s: {
            **_ledger_pnl(led, marks, costs, overnight),
            "turnover": _money(led.turnover_usd),
            "round_trips": led.round_trips,
        }
        for s, led in sorted(per.items())
    }
    return {
        "pnl": pnl,
        "turnover": _money(account.turnover_usd),
        "round_trips": account.round_trips,
        "realized_by_symbol": {s: _money(v) for s, v in sorted(account.realized_by_symbol.items())},
    }


def journal_fills(journal: Journal, run_id: str) -> list[tuple[Fill, str]]:
    """The run's fills in execution order with their orders' strategies (the whole run, also
    after a restart)."""
    rows = journal.query(
        "SELECT f.ts_ns, f.client_order_id, f.symbol, f.side, f.qty, f.price, f.execution_id,"
        " f.fee_usd, coalesce(o.strategy, '') FROM fills f"
        " LEFT JOIN orders o USING (client_order_id) WHERE f.run_id=? ORDER BY f.ts_ns, f.rowid",
        (run_id,),
    )
    return [
        (Fill(int(ts), coid, "", sym, Side(side), float(q), float(px), eid, float(fee)), strat)
        for ts, coid, sym, side, q, px, eid, fee, strat in rows
    ]


def journal_counts(journal: Journal, run_id: str) -> dict[str, Any]:
    """Orders, fills, signals and denials of the whole run, as the journal has them."""

    def one(sql: str) -> int:
        return int(journal.query(sql, (run_id,))[0][0])

    def by(sql: str) -> dict[str, int]:
        return {str(k): int(n) for k, n in journal.query(sql, (run_id,))}

    return {
        "orders": one("SELECT count(*) FROM orders WHERE run_id=?"),
        "fills": one("SELECT count(*) FROM fills WHERE run_id=?"),
        "signals": by(
            "SELECT strategy, count(*) FROM signals WHERE run_id=? GROUP BY strategy ORDER BY 1"
        ),
        # a repeated denial is one row with a count of its repeats (execution/denials.py)
        "denials": by(
            "SELECT gate, sum(1 + repeats) FROM denials WHERE run_id=? GROUP BY gate ORDER BY 1"
        ),
    }


def closing_marks(
    book: QuoteBook, auction: ClosingAuction | None, closed: bool
) -> tuple[dict[str, float], str]:
    """Where open positions are marked: the closing prints (official close where the venue has
    one, else the closing mid) after the close, the book's mids before it."""
    mids = book.mid
    marks = {s: float(mids[i]) for s, i in book.index.items() if math.isfinite(mids[i])}
    if not closed:
        return marks, "mid"
    if auction is None:
        return marks, "closing_mid"
    official = "official" in auction.source.values()
    return {**marks, **auction.prices}, "official_close" if official else "closing_mid"


def run_pnl(
    journal: Journal, run_id: str, marks: Mapping[str, float], costs: CostModel, overnight: bool
) -> dict[str, Any]:
    """The summary's counts and P&L keys for one run, from the journal."""
    pnl = pnl_summary(journal_fills(journal, run_id), marks, costs, overnight)
    return {
        **journal_counts(journal, run_id),
        "realized_pnl": pnl["pnl"]["realized"],
        **pnl,
    }
