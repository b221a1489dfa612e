"""The trading state in the journal: what the daemon restores after a crash or restart.

Rows are per session day (New York date) and run. Which rows a start-up restores from:

- live trading: every run of today's session. A daily-loss HALT stays for the rest of the session
  whatever the run id a restart picks, and the realized P&L of the session's earlier runs counts
  against the daily loss limit of the new one;
- a replay: only its own run id (a crashed replay resumed). A new replay of the same day is a new
  simulation and starts from the configured state.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from inavd.domain.events import TradingState
from inavd.execution.journal import Journal

INSERT = (
    "INSERT INTO trading_states (session, run_id, wall_ns, state, reason, realized_pnl_usd)"
    " VALUES (?,?,?,?,?,?)"
)


class Stored(msgspec.Struct, frozen=True):
    state: TradingState
    reason: str
    run_id: str
    realized_pnl_usd: float


class TradingStateStore:
    def __init__(
        self,
        journal: Journal,
        session: str,
        run_id: str,
        *,
        whole_session: bool,
        realized: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.journal = journal
        self.session = session
        self.run_id = run_id
        self.whole_session = whole_session
        self.realized = realized  # this session's realized P&L so far (all counted runs)

    def save(self, state: TradingState, reason: str) -> None:
        row = (self.session, self.run_id, time.time_ns(), state.value, reason, self.realized())
        with self.journal.transaction():
            self.journal.execute(INSERT, row)

    def last(self) -> Stored | None:
        sql = (
            "SELECT state, reason, run_id, realized_pnl_usd FROM trading_states"
            " WHERE session=?"
            + ("" if self.whole_session else " AND run_id=?")
            + " ORDER BY id DESC LIMIT 1"
        )
        params = (self.session,) if self.whole_session else (self.session, self.run_id)
        rows = self.journal.query(sql, params)
        if not rows:
            return None
        state, reason, run_id, pnl = rows[0]
        return Stored(TradingState(state), str(reason), str(run_id), float(pnl))

    def carried_pnl_usd(self) -> float:
        """Realized P&L of this session's other runs (live only): their symbols' realized P&L."""
        if not self.whole_session:
            return 0.0
        rows = self.journal.query(
            "SELECT coalesce(sum(realized_pnl), 0.0) FROM positions WHERE run_id IN"
            " (SELECT DISTINCT run_id FROM trading_states WHERE session=? AND run_id<>?)",
            (self.session, self.run_id),
        )
        return float(rows[0][0] or 0.0)
