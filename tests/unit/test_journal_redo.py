"""The journal's redo log: commits are frames appended before SQLite sees them, applied many at a
time; reads see every commit; reopening applies what a crash left and skips what SQLite has."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from tests.kit.crash import abandon

from inavd.errors import JournalError, JournalWriteFailed
from inavd.execution import redo
from inavd.execution.journal import Journal

SIGNAL = (
    "INSERT INTO signals (run_id, ts_ns, strategy, symbol, target_qty, reason) VALUES (?,?,?,?,?,?)"
)


def _signal(j: Journal, ts: int, qty: float = 1.0) -> None:
    j.execute(SIGNAL, ("r", ts, "s", "SH", qty, f"why {ts}"))


def _tx(j: Journal, *ts: int) -> None:
    with j.transaction():
        for t in ts:
            _signal(j, t)


def _in_sqlite(path: Path) -> list[int]:
    """What another connection (the report, a crash) sees: SQLite alone, without the redo log."""
    db = sqlite3.connect(str(path))
    try:
        return [t for (t,) in db.execute("SELECT ts_ns FROM signals ORDER BY id")]
    finally:
        db.close()


def _held(j: Journal) -> Journal:
    """No deferral and no bound: commits stay in the redo log until something applies them."""
    j.pending_max_records = 10**9
    j.pending_max_bytes = 10**12
    return j


def test_a_commit_is_a_frame_and_reaches_sqlite_at_the_apply(tmp_path: Path) -> None:
    j = _held(Journal(tmp_path / "j.sqlite"))
    try:
        _tx(j, 1, 2)
        _tx(j, 3)
        assert _in_sqlite(j.path) == []  # nothing of it in SQLite yet
        frames = redo.scan(j.redo_path).records
        assert [seq for seq, _ in frames] == [1, 2]
        assert [len(stmts) for _, stmts in frames] == [2, 1]
        j.apply()
        assert _in_sqlite(j.path) == [1, 2, 3]  # both frames, one SQLite transaction
        assert j.applies == 1 and j.applied_seq() == 2
    finally:
        j.close()
    assert not j.redo_path.exists()  # an empty log is removed at close


def test_reads_see_pending_commits_and_lazy_writes(tmp_path: Path) -> None:
    j = _held(Journal(tmp_path / "j.sqlite"))
    try:
        _tx(j, 1)
        j.write_lazily(SIGNAL, ("r", 2, "s", "SH", 1.0, "lazy"))
        assert j.query("SELECT ts_ns FROM signals ORDER BY id") == [(1,), (2,)]
        # inside a transaction a read sees that transaction's own writes too, and the
        # transaction still commits only through the redo log
        with j.transaction():
            _signal(j, 3)
            assert j.query("SELECT count(*) FROM signals") == [(3,)]
            assert _in_sqlite(j.path) == [1, 2]
        assert _in_sqlite(j.path) == [1, 2]
        assert j.query("SELECT count(*) FROM signals") == [(3,)]
    finally:
        j.close()


def test_rolled_back_transaction_leaves_nothing(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    try:
        with pytest.raises(RuntimeError), j.transaction():
            _signal(j, 1)
            raise RuntimeError("boom")
        assert redo.scan(j.redo_path).records == []
        assert j.query("SELECT count(*) FROM signals") == [(0,)]
    finally:
        j.close()


def test_insert_returns_the_row_id_after_everything_committed_before_it(tmp_path: Path) -> None:
    j = _held(Journal(tmp_path / "j.sqlite"))
    try:
        _tx(j, 1, 2)
        rowid = j.insert(SIGNAL, ("r", 3, "s", "SH", 1.0, "with id"))
        assert rowid == 3
        assert _in_sqlite(j.path) == [1, 2, 3]
    finally:
        j.close()


def test_deferred_apply_groups_commits(tmp_path: Path) -> None:
    queued: list[Callable[[], None]] = []
    j = Journal(tmp_path / "j.sqlite", defer=queued.append)
    try:
        for t in range(1, 6):
            _tx(j, t)
        assert len(queued) == 1  # one apply scheduled for all five
        assert _in_sqlite(j.path) == []
        queued.pop()()
        assert _in_sqlite(j.path) == [1, 2, 3, 4, 5]
        assert j.applies == 1
        _tx(j, 6)
        assert len(queued) == 1  # the next commit schedules the next apply
    finally:
        j.close()


def test_the_backstop_bounds_what_waits_for_sqlite(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite", pending_max_records=3)
    try:
        _tx(j, 1)
        _tx(j, 2)
        assert _in_sqlite(j.path) == []
        _tx(j, 3)  # the third pending frame: applied on the spot
        assert _in_sqlite(j.path) == [1, 2, 3]
    finally:
        j.close()


def test_reopen_applies_what_a_crash_left_and_skips_what_sqlite_has(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _held(Journal(path))
    _tx(j, 1, 2)
    j.apply()  # in SQLite, applied_seq 1; the frame stays in the log (it is short)
    _tx(j, 3)
    _tx(j, 4)
    assert [seq for seq, _ in redo.scan(j.redo_path).records] == [1, 2, 3]
    abandon(j)  # kill -9: frames 2 and 3 never reached SQLite
    assert _in_sqlite(path) == [1, 2]
    with capture_logs() as logs:
        j = Journal(path)
    try:
        assert j.redo_recovered == 2 and j.redo_torn == 0
        said = [e for e in logs if e["event"].startswith("journal redo log: commits applied")]
        assert [e["commits"] for e in said] == [2]  # the operator is told
        assert _in_sqlite(path) == [1, 2, 3, 4]  # frame 1 not applied twice
        assert j.applied_seq() == 3
        assert j.redo_path.stat().st_size == 0  # emptied once applied
        _tx(j, 5)  # numbering continues
        assert [seq for seq, _ in redo.scan(j.redo_path).records] == [4]
    finally:
        j.close()


@pytest.mark.parametrize("damage", ["cut", "zeroed"])
def test_torn_last_frame_is_dropped_and_counted(tmp_path: Path, damage: str) -> None:
    """A power loss in the middle of the last write: part of its frame is on disk ("cut"), or
    its whole length with the payload never written ("zeroed")."""
    path = tmp_path / "j.sqlite"
    j = _held(Journal(path))
    _tx(j, 1)
    before_last = j.redo.size
    _tx(j, 2, 3)
    abandon(j)
    with open(j.redo_path, "r+b") as fh:
        if damage == "cut":
            fh.truncate(before_last + (j.redo.size - before_last) // 2)
        else:
            fh.seek(before_last + redo.HEADER.size)
            fh.write(b"\0" * (j.redo.size - before_last - redo.HEADER.size))
    j = Journal(path)
    try:
        assert (j.redo_torn, j.redo_recovered) == (1, 1)
        assert j.query("SELECT ts_ns FROM signals") == [(1,)]  # the torn one: not at all
    finally:
        j.close()


def test_damaged_middle_frame_is_one_line_naming_the_redo_log(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _held(Journal(path))
    _tx(j, 1)
    _tx(j, 2)
    abandon(j)
    with open(j.redo_path, "r+b") as fh:
        fh.seek(redo.HEADER.size + 3)  # inside the first frame's payload
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(JournalError) as info:
        Journal(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(j.redo_path) in msg and "fails its checksum" in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_redo_log_without_its_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _held(Journal(path))
    _tx(j, 1)
    abandon(j)
    for p in tmp_path.glob("j.sqlite*"):
        if p != j.redo_path:
            p.unlink()
    with pytest.raises(JournalError, match="a redo log without its journal"):
        Journal(path)


def test_redo_write_failure_halts_like_a_journal_write_failure(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    halted: list[str] = []
    j.on_failure = halted.append
    os.close(j.redo.fd)
    j.redo.fd = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC
    try:
        with pytest.raises(JournalWriteFailed, match="No space left on device"):
            _tx(j, 1)
        assert len(halted) == 1 and "No space left" in halted[0]
        assert j.query("SELECT count(*) FROM signals") == [(0,)]  # not committed
    finally:
        j.close()


def test_numpy_parameters_are_logged_as_numbers(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    path = tmp_path / "j.sqlite"
    j = _held(Journal(path))
    with j.transaction():
        j.execute(SIGNAL, ("r", int(np.int64(7)), "s", "SH", np.float64(2.5), "np"))
    abandon(j)
    j = Journal(path)
    try:
        assert j.query("SELECT ts_ns, target_qty FROM signals") == [(7, 2.5)]
    finally:
        j.close()


def test_a_second_writer_is_refused_before_it_applies_anything(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _held(Journal(path))
    try:
        _tx(j, 1)
        with pytest.raises(JournalError, match="in use by another inavd"):
            Journal(path)  # it would apply frame 1, which the first one applies too
        assert _in_sqlite(path) == []
        assert j.query("SELECT ts_ns FROM signals") == [(1,)]  # applied once
    finally:
        j.close()
    Journal(path).close()  # released at close
