"""What a run writes about itself: its row in the journal's `runs` table and its summary."""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from inavd import __version__
from inavd.brokers.paper_close import ClosingAuction
from inavd.costs import CostModel
from inavd.domain.instruments import Universe
from inavd.execution.state_store import TradingStateStore
from inavd.execution.storage import Built, storage_summary
from inavd.pnl import closing_marks, run_pnl
from inavd.ports import DaemonView
from inavd.summary import thresholds_by_fund


class RecordedRun(DaemonView, Built, Protocol):
    """What the record reads of the app (`App` satisfies it; no import of the app itself)."""

    @property
    def universe(self) -> Universe: ...
    @property
    def state_store(self) -> TradingStateStore: ...


def run_summary(app: RecordedRun, wall: float) -> dict[str, Any]:
    """Counts, P&L after costs, premiums and storage of the run (`--summary-json`)."""
    c, core, settings = app.collector, app.core, app.cfg.settings
    auction = getattr(app.broker, "auction", None)
    marks, marked_at = closing_marks(
        app.book, auction if isinstance(auction, ClosingAuction) else None, core.closed
    )
    # counts and P&L from the journal: after a restart they cover the whole run
    pnl = run_pnl(app.journal, app.run_id, marks, CostModel(settings.costs),
                  overnight=core.closed)  # fmt: skip
    return {
        "run_id": app.run_id,
        "version": __version__,
        "feed": app.feed.describe(),
        "session": app.day.isoformat(),
        "quotes": core.quotes,
        "quotes_rejected": app.book.rejected_total,
        "quotes_rejected_by_reason": app.book.rejected_by_reason(),
        "inav_evaluations": max(c.inav_evaluations, core.evaluations),
        **pnl,
        "marked_at": marked_at,
        "final_positions": {s: q for s, q in sorted(app.router.ledger.qty.items())},
        "premium_bp": c.premium_table(),
        "thresholds": {
            "entry_bp": settings.strategies.premium_reversion.entry_bp,
            "exit_bp": settings.strategies.premium_reversion.exit_bp,
        },
        "reference": app.reference_doc(),
        "thresholds_by_fund": thresholds_by_fund(
            settings.strategies, tuple(f.symbol for f in app.universe.funds)
        ),
        "journal_path": str(app.journal.path),
        "storage": storage_summary(app),
        "step_ms": {  # whole evaluation steps (iNAV, listeners, signals, orders)
            "mean": round(1e3 * core.step_s_total / max(core.evaluations, 1), 4),
            "max": round(1e3 * core.step_s_max, 4),
        },
        "wall_seconds": round(wall, 3),
        "quotes_per_second": round(core.quotes / max(wall, 1e-9)),
    }


def record_run_start(app: RecordedRun) -> None:
    ts = app.trading_state  # registers the run with its session (carried P&L, restore)
    app.state_store.save(ts.state, ts.reason)
    app.journal.execute(
        "INSERT OR IGNORE INTO runs (run_id, started_ns, config_path, feed, broker, version,"
        " summary_json) VALUES (?,?,?,?,?,?,?)",
        (
            app.run_id,
            time.time_ns(),
            str(app.cfg.path),
            app.feed.describe(),
            app.broker.name,
            __version__,
            json.dumps({"reference": app.reference_doc()}),  # the full summary at the end
        ),
    )


def record_run_end(app: RecordedRun, summary: dict[str, Any]) -> None:
    app.journal.execute(
        "UPDATE runs SET ended_ns=?, summary_json=? WHERE run_id=?",
        (time.time_ns(), json.dumps(summary), app.run_id),
    )
