"""Resuming a replay after a crash: skip the data the journal says was already processed.

After each batch (and everything it caused is journaled) the run loop records a checkpoint: the
data time reached and the number of iNAV evaluations. A restart of the same run applies the quotes
up to the checkpoint to the book only (no evaluations, no signals, no venue matching: the simulated
venue was down with the daemon) and continues from there with the next tick.
"""

from __future__ import annotations

import msgspec
import numpy as np

from inavd.core import Core
from inavd.domain.quotes import QuoteBatch
from inavd.errors import ConfigError
from inavd.execution.journal import Journal


class Checkpoint(msgspec.Struct):
    data_ns: int
    evaluations: int


class ReplayResume:
    def __init__(self, journal: Journal, run_id: str) -> None:
        self.journal = journal
        self.run_id = run_id
        self.checkpoint = self._load()

    def _load(self) -> Checkpoint | None:
        runs = self.journal.query("SELECT ended_ns FROM runs WHERE run_id=?", (self.run_id,))
        if not runs:
            return None
        if runs[0][0] is not None:
            raise ConfigError(
                f"{self.journal.path}: run {self.run_id!r} already completed; set another"
                " run.run_id (or leave it empty for a new one)"
            )
        rows = self.journal.query(
            "SELECT data_ns, evaluations FROM checkpoints WHERE run_id=?", (self.run_id,)
        )
        return Checkpoint(int(rows[0][0]), int(rows[0][1])) if rows else Checkpoint(0, 0)

    @property
    def resuming(self) -> bool:
        return self.checkpoint is not None

    def skip(self, core: Core, batch: QuoteBatch) -> QuoteBatch:
        """Apply the already-processed prefix of `batch` to the book; return the rest."""
        cp = self.checkpoint
        if cp is None or not len(batch) or int(batch.ts_ns[0]) > cp.data_ns:
            return batch
        k = int(np.searchsorted(batch.ts_ns, cp.data_ns, side="right"))
        done = batch.slice(0, k)
        core.book.apply(done)
        core.quotes += k
        ts = int(done.ts_ns[-1])
        if ts > core.now_ns:
            core.now_ns = ts
            core.advance_clock(ts)
        while core.next_tick_ns <= cp.data_ns:
            core.next_tick_ns += core.interval_ns
        core.evaluations = max(core.evaluations, cp.evaluations)
        return batch.slice(k, len(batch))

    def save(self, core: Core) -> None:
        self.journal.execute(
            "INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
            (self.run_id, core.now_ns, core.evaluations),
        )
