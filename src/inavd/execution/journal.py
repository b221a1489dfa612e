"""SQLite journal (WAL): iNAV snapshots, orders, fills, positions, signals and denials.

The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[i]` upgrades version i to i + 1.
A second run appends to the same file. A damaged file is an error naming the file, never a reset.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from inavd.errors import JournalError

MIGRATIONS: list[str] = [
    # v0 -> v1
    """
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, started_ns INTEGER NOT NULL, ended_ns INTEGER,
        config_path TEXT, feed TEXT, broker TEXT, version TEXT, summary_json TEXT
    );
    CREATE TABLE inav_snapshots (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts_ns INTEGER NOT NULL, symbol TEXT NOT NULL,
        inav REAL, mid REAL, premium_bp REAL, bench_move REAL, flow_usd REAL, spread_bp REAL,
        PRIMARY KEY (run_id, seq, symbol)
    );
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL,
        symbol TEXT NOT NULL, side TEXT NOT NULL, qty REAL NOT NULL, order_type TEXT NOT NULL,
        time_in_force TEXT NOT NULL, limit_price REAL, strategy TEXT, reason TEXT,
        status TEXT NOT NULL, broker_order_id TEXT, filled_qty REAL NOT NULL DEFAULT 0,
        avg_fill_price REAL, updated_ns INTEGER NOT NULL
    );
    CREATE TABLE order_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, client_order_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL, status TEXT NOT NULL, detail TEXT
    );
    CREATE TABLE fills (
        execution_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL,
        client_order_id TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
        qty REAL NOT NULL, price REAL NOT NULL
    );
    CREATE TABLE positions (
        run_id TEXT NOT NULL, symbol TEXT NOT NULL, qty REAL NOT NULL, avg_price REAL NOT NULL,
        realized_pnl REAL NOT NULL, updated_ns INTEGER NOT NULL, PRIMARY KEY (run_id, symbol)
    );
    CREATE TABLE signals (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL,
        strategy TEXT NOT NULL, symbol TEXT NOT NULL, target_qty REAL, reason TEXT
    );
    CREATE TABLE denials (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL,
        gate TEXT NOT NULL, reason TEXT, symbol TEXT, client_order_id TEXT
    );
    CREATE INDEX fills_by_run ON fills(run_id, ts_ns);
    CREATE INDEX snapshots_by_symbol ON inav_snapshots(run_id, symbol, ts_ns);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

RECOVERY_HINT = (
    "move the file aside (keep it for inspection), then either restore the last backup or start "
    "with a new journal and let start-up reconciliation adopt the broker's open orders and "
    "positions; see docs/operations.md, 'Journal recovery'"
)


class Journal:
    def __init__(self, path: Path, synchronous: str = "normal") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self.db.execute("PRAGMA busy_timeout=5000")
            self._check_integrity()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise JournalError(
                f"{path}: journal is damaged or not a journal ({exc}); {RECOVERY_HINT}"
            ) from None
        self._in_tx = False

    # ------------------------------------------------------------------ schema
    def _check_integrity(self) -> None:
        row = self.db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {row[0] if row else 'no answer'}")

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"{self.path}: journal schema v{version} is newer than this inavd"
                f" (v{SCHEMA_VERSION})"
            )
        for v in range(version, SCHEMA_VERSION):
            self.db.execute("BEGIN IMMEDIATE")
            for stmt in _statements(MIGRATIONS[v]):
                self.db.execute(stmt)
            self.db.execute(f"PRAGMA user_version={v + 1}")
            self.db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # ------------------------------------------------------------------ writes
    def begin(self) -> None:
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True

    def commit(self) -> None:
        if self._in_tx:
            self.db.execute("COMMIT")
            self._in_tx = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, params).fetchall()

    def close(self) -> None:
        self.commit()
        self.db.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
