"""SIGKILL a process that commits orders through the journal while SQLite never sees them (no
apply: the redo log is the only copy); reopening the journal shows every order whose commit
returned."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inavd.execution.journal import Journal

WRITER = r"""
import sys, time
from pathlib import Path
from inavd.bus import Bus
from inavd.domain.events import OrderSubmitted, SignalEmitted
from inavd.domain.orders import OrderRequest, Side
from inavd.execution.journal import Journal
from inavd.execution.recorder import JournalRecorder

j = Journal(Path(sys.argv[1]), sys.argv[2], pending_max_records=10**9)
j.pending_max_bytes = 10**12  # nothing is applied: SQLite stays empty until the reopen
bus = Bus()
JournalRecorder(j, "run").attach(bus)
k = 0
while True:
    k += 1
    coid = f"run-s-SH-{k}"
    j.begin()  # as the router: the signal and the order in one write-ahead commit
    bus.publish(SignalEmitted(k, "s", "SH", float(k), "why"))
    bus.publish(OrderSubmitted(k, OrderRequest(coid, "SH", Side.BUY, 1.0)))
    j.commit()
    print(coid, flush=True)  # the commit returned: the submit would leave now
    if k >= 200:
        time.sleep(0.01)
"""


@pytest.mark.parametrize("sync", ["normal", "full"])
@pytest.mark.timeout(60)
def test_orders_committed_only_to_the_redo_log_survive_kill9(tmp_path: Path, sync: str) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path).close()  # an existing journal, as a daemon restarts on
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), sync],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    returned: list[str] = []
    deadline = time.monotonic() + 30
    while len(returned) < 300:  # some in a burst, some paced: the kill lands anywhere
        line = proc.stdout.readline()
        assert line, f"the writer died first (exit {proc.poll()})"
        returned.append(line.strip())
        assert time.monotonic() < deadline
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    rest = proc.stdout.read().split()  # printed before the kill, read after it
    proc.stdout.close()
    returned += rest

    db = sqlite3.connect(str(path))  # SQLite alone: none of it was applied
    try:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    finally:
        db.close()
    assert Path(f"{path}-redo").stat().st_size > 0

    j = Journal(path)
    try:
        ids = {c for (c,) in j.query("SELECT client_order_id FROM orders")}
        assert set(returned) <= ids  # every returned commit is there
        # at most the one being committed when the kill landed is there beyond them
        assert len(ids) - len(returned) <= 1
        signals = j.query("SELECT count(*) FROM signals")[0][0]
        assert signals == len(ids)  # each order with its signal: whole transactions only
        events = j.query("SELECT count(*) FROM order_events WHERE status='pending_new'")[0][0]
        assert events == len(ids)
        assert j.redo_recovered == len(ids)
    finally:
        j.close()
