"""A journal dropped as a killed process drops it: nothing applied, nothing closed cleanly."""

from __future__ import annotations

import os

from inavd.execution.journal import Journal


def abandon(j: Journal) -> None:
    """What `kill -9` leaves: the redo log's writes (in the page cache) and whatever SQLite had
    committed; the pending frames never reach SQLite and the log is not removed."""
    j._stop.set()
    j._checkpointer.join(timeout=5)
    j._closed = True
    j.db.close()
    os.close(j.redo.fd)
