"""Nonces of accepted operator commands, kept in the journal so a captured command cannot be
replayed after a restart (the in-memory set would be empty then).

A command older than the verifier's time window is refused as stale anyway, so only nonces younger
than the window need keeping; older ones are pruned as new ones are remembered.
"""

from __future__ import annotations

from inavd.execution.journal import Journal


class JournalNonces:
    def __init__(self, journal: Journal, keep_s: float) -> None:
        self.journal = journal
        self.keep_s = keep_s

    def seen(self, nonce: str) -> bool:
        return bool(self.journal.query("SELECT 1 FROM control_nonces WHERE nonce=?", (nonce,)))

    def remember(self, nonce: str, ts: float) -> bool:
        """Record `nonce`; False when it was already there (a replay racing its original).
        The journal's commits reach SQLite later (its redo log), so the key is checked by a
        read, which sees every commit, rather than by the INSERT's constraint."""
        if self.seen(nonce):
            return False
        with self.journal.transaction():  # durable before the command takes effect
            self.journal.execute("INSERT INTO control_nonces VALUES (?,?)", (nonce, ts))
            self.journal.execute("DELETE FROM control_nonces WHERE ts < ?", (ts - self.keep_s,))
        return True
