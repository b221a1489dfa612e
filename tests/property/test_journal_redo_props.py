"""Crash anywhere: a random run of transactions (some applied to SQLite on the way, some lazy
writes in between), then the process dies — possibly in the middle of writing the last frame.
The reopened journal holds exactly the transactions whose commit returned; the one being written
when it died is there entirely or not at all."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.kit.crash import abandon

from inavd.execution.journal import Journal

SIGNAL = (
    "INSERT INTO signals (run_id, ts_ns, strategy, symbol, target_qty, reason) VALUES (?,?,?,?,?,?)"
)

# one step: ("tx", rows in it) | ("apply",) | ("lazy",)
step = st.one_of(
    st.tuples(st.just("tx"), st.integers(1, 4)),
    st.tuples(st.just("apply")),
    st.tuples(st.just("lazy")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(step, min_size=1, max_size=25),
    cut=st.one_of(st.none(), st.floats(0.0, 1.0, exclude_max=True)),
    text=st.text(max_size=30),
    qty=st.floats(allow_nan=False),
)
def test_reopened_journal_holds_exactly_the_returned_commits(
    steps: list[tuple[object, ...]], cut: float | None, text: str, qty: float
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "j.sqlite"
        j = Journal(path, pending_max_records=10**9)
        j.pending_max_bytes = 10**12
        committed: list[list[int]] = []  # ts_ns of each returned commit's rows
        applied = 0  # how many of them SQLite holds
        next_ts = 0
        last_start = last_end = 0
        for s in steps:
            if s[0] == "tx":
                rows = list(range(next_ts, next_ts + int(s[1])))  # type: ignore[call-overload]
                next_ts += len(rows)
                last_start = j.redo.size
                with j.transaction():
                    for ts in rows:
                        j.execute(SIGNAL, ("r", ts, "s", "SH", qty, text))
                last_end = j.redo.size
                committed.append(rows)
            elif s[0] == "apply":
                j.apply()
                applied = len(committed)
            else:  # an acknowledgement: may be lost in a crash, never half of a transaction
                j.write_lazily("UPDATE signals SET reason='ack' WHERE ts_ns=?", (next_ts - 1,))
        abandon(j)
        torn = cut is not None and applied < len(committed) and last_end > last_start
        partial = 0  # bytes of the last frame that reached the file
        if torn:
            assert cut is not None
            partial = int(cut * (last_end - last_start))
            with open(j.redo_path, "r+b") as fh:  # died in the middle of the last write
                fh.truncate(last_start + partial)
        j = Journal(path)
        try:
            got = [t for (t,) in j.query("SELECT ts_ns FROM signals ORDER BY id")]
            values = set(j.query("SELECT target_qty, reason FROM signals WHERE reason<>'ack'"))
        finally:
            j.close()
        whole = [t for rows in committed for t in rows]
        if torn:
            assert got == [t for rows in committed[:-1] for t in rows]
            assert j.redo_torn == (partial > 0)  # nothing of it written: a clean end
        else:
            assert got == whole
        assert values <= {(qty, text)}
