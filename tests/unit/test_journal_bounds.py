"""Bounded journal: the WAL stays under its bound through a long run of commits, repeated
denials are one row with a count, and the storage report measures the run's growth."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from tests.kit.crash import abandon

from inavd.domain.events import OrderDenied
from inavd.domain.orders import OrderRequest, Side
from inavd.execution.journal import SCHEMA_VERSION, Journal
from inavd.execution.recorder import JournalRecorder

MB = 1024 * 1024


def _wal(j: Journal) -> int:
    p = Path(f"{j.path}-wal")
    return p.stat().st_size if p.exists() else 0


def test_wal_never_passes_its_bound_while_writes_never_pause(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite", wal_max_bytes=1 * MB)
    # a reader that keeps reading (short reads, as the report and the ops page do)
    reader = sqlite3.connect(str(j.path))
    blob = os.urandom(2000)
    peak = 0
    try:
        for i in range(6000):  # ~12 MB of rows, 12 × the bound, one commit each
            with j.transaction():
                j.execute(
                    "INSERT INTO order_events (client_order_id, ts_ns, status, detail)"
                    " VALUES (?,?,?,?)",
                    (f"o{i}", i, "new", blob.hex()[: 1500 + i % 500]),
                )
            if i % 50 == 0:
                reader.execute("SELECT COUNT(*) FROM order_events").fetchall()
            peak = max(peak, _wal(j))
        assert peak <= 1 * MB
        assert j.wal.truncations >= 5
        assert j.query("SELECT COUNT(*) FROM order_events")[0][0] == 6000
        st = j.storage()
        assert peak <= st["wal_peak_bytes"] <= 1 * MB  # its own peak is seen before the cut
        assert st["journal_growth_bytes"] >= 6000 * 1500  # every row is in the file
    finally:
        reader.close()
        j.close()


def _denied(ts: int, symbol: str, gate: str, reason: str) -> OrderDenied:
    req = OrderRequest(f"c{ts}{symbol}", symbol, Side.BUY, 10)
    return OrderDenied(ts, gate, reason, req)


def test_repeated_denials_are_one_row_with_a_count(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    rec = JournalRecorder(j, "run")
    try:
        assert j.schema_version == SCHEMA_VERSION
        for k in range(1, 101):  # the same limit, with the amount moving every time
            rec.on_denied(_denied(k, "SH", "max_gross", f"gross {1_000_000 + k:,} USD > 1,000,000"))
        rec.on_denied(_denied(101, "SDS", "max_gross", "gross 1,000,500 USD > 1,000,000"))
        rec.on_denied(_denied(102, "SH", "spread", "spread 9.10 bp > mean + 3σ = 7.00 bp"))
        rec.flush()
        rows = j.query(
            "SELECT ts_ns, gate, symbol, repeats, last_ts_ns, last_reason, reason FROM denials"
            " ORDER BY id"
        )
        assert rows == [
            (1, "max_gross", "SH", 99, 100, "gross 1,000,100 USD > 1,000,000",
             "gross 1,000,001 USD > 1,000,000"),
            (101, "max_gross", "SDS", 0, None, None, "gross 1,000,500 USD > 1,000,000"),
            (102, "spread", "SH", 0, None, None, "spread 9.10 bp > mean + 3σ = 7.00 bp"),
        ]  # fmt: skip
        assert rec.denials.repeats == 99
    finally:
        j.close()


def test_denial_counts_are_durable_after_flush(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    rec = JournalRecorder(j, "run")
    for k in range(1, 6):
        rec.on_denied(_denied(k, "SH", "order_rate", f"{k + 60} orders in the last minute"))
    rec.flush()
    abandon(j)  # a crash right after: the counts are in the redo log
    j = Journal(tmp_path / "j.sqlite")
    try:
        assert j.redo_recovered >= 1
        assert j.query("SELECT repeats, last_ts_ns FROM denials") == [(4, 5)]
    finally:
        j.close()
