"""SQLite journal (WAL): iNAV snapshots, orders, fills, positions, signals and denials.

The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[i]` upgrades version i to i + 1.
A second run appends to the same file. A damaged file is an error naming the file, never a reset.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inavd.errors import JournalError, JournalWriteFailed
from inavd.execution.journal_schema import check_schema, tables

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
    # v1 -> v2: execution engine (order sequence and parent, iceberg parents, reconciliation
    # reports, replay checkpoints)
    """
    ALTER TABLE orders ADD COLUMN seq INTEGER;
    ALTER TABLE orders ADD COLUMN parent_id TEXT;
    CREATE INDEX orders_by_parent ON orders(parent_id);
    CREATE INDEX orders_by_status ON orders(status);
    CREATE TABLE algo_parents (
        parent_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
        symbol TEXT NOT NULL, side TEXT NOT NULL, total_qty REAL NOT NULL,
        display_qty REAL NOT NULL, limit_price REAL, strategy TEXT, reason TEXT,
        status TEXT NOT NULL, created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL
    );
    CREATE TABLE reconciliations (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL,
        kind TEXT NOT NULL, symbol TEXT, client_order_id TEXT, detail TEXT
    );
    CREATE TABLE checkpoints (
        run_id TEXT PRIMARY KEY, data_ns INTEGER NOT NULL, evaluations INTEGER NOT NULL
    );
    """,
    # v2 -> v3: fewer pages written per order commit (docs/execution.md, 'Journal write cost').
    # Plain orders have no parent, so they leave the parent index alone; the history tables drop
    # AUTOINCREMENT (the journal never deletes rows, so ids stay increasing) and with it the
    # sqlite_sequence page rewritten by every insert. Ids are copied unchanged.
    """
    DROP INDEX orders_by_parent;
    CREATE INDEX orders_by_parent ON orders(parent_id) WHERE parent_id IS NOT NULL;
    CREATE TABLE order_events_v3 (
        id INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL, status TEXT NOT NULL, detail TEXT
    );
    INSERT INTO order_events_v3 SELECT id, client_order_id, ts_ns, status, detail
        FROM order_events ORDER BY id;
    DROP TABLE order_events;
    ALTER TABLE order_events_v3 RENAME TO order_events;
    CREATE TABLE signals_v3 (
        id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, ts_ns INTEGER NOT NULL,
        strategy TEXT NOT NULL, symbol TEXT NOT NULL, target_qty REAL, reason TEXT
    );
    INSERT INTO signals_v3 SELECT id, run_id, ts_ns, strategy, symbol, target_qty, reason
        FROM signals ORDER BY id;
    DROP TABLE signals;
    ALTER TABLE signals_v3 RENAME TO signals;
    DELETE FROM sqlite_sequence WHERE name IN ('order_events', 'signals');
    """,
    # v3 -> v4: repeated identical denials are one row with a count (docs/execution.md,
    # 'Bounded journal'); iNAV history moved to Parquet segments beside the journal, so the
    # snapshot table only keeps what older versions wrote
    """
    ALTER TABLE denials ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE denials ADD COLUMN last_ts_ns INTEGER;
    ALTER TABLE denials ADD COLUMN last_reason TEXT;
    """,
    # v4 -> v5: every fill carries its fees; positions.realized_pnl is the symbol's own (it was
    # the account's running total)
    """
    ALTER TABLE fills ADD COLUMN fee_usd REAL NOT NULL DEFAULT 0;
    """,
    # v5 -> v6: the trading state and its reason per session day and run, with the session's
    # realized P&L when it changed, so a restart comes back in the state it left; the nonces of
    # accepted operator commands, so a captured command stays refused after a restart
    """
    CREATE TABLE trading_states (
        id INTEGER PRIMARY KEY, session TEXT NOT NULL, run_id TEXT NOT NULL,
        wall_ns INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
        realized_pnl_usd REAL NOT NULL
    );
    CREATE INDEX trading_states_by_session ON trading_states(session, id);
    CREATE TABLE control_nonces (nonce TEXT PRIMARY KEY, ts REAL NOT NULL);
    CREATE INDEX control_nonces_by_ts ON control_nonces(ts);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
CHECKPOINT_INTERVAL_S = 1.0
WAL_MAX_BYTES = 64 * 1024 * 1024
CHECKPOINT_WAIT_MS = 20

RECOVERY_HINT = (
    "move the file aside (keep it for inspection), then either restore the last backup or start "
    "with a new journal and let start-up reconciliation adopt the broker's open orders and "
    "positions; see docs/execution.md, 'Journal recovery'"
)


class Journal:
    def __init__(
        self, path: Path, synchronous: str = "normal", wal_max_bytes: int = WAL_MAX_BYTES
    ) -> None:
        self.path = path
        self.wal = WalBound(Path(f"{path}-wal"), wal_max_bytes)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.is_dir():
                raise sqlite3.DatabaseError("it is a directory")
            created = not path.exists()
            if created:
                _create(path, durable=synchronous.lower() != "off")
            _check_file(path)
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self.db.execute("PRAGMA busy_timeout=5000")
            if not created:  # a file just written from the image is that schema, undamaged
                self._check_integrity()
            self._migrate()
            if not created:
                check_schema(self.db, tuple(tuple(_statements(m)) for m in MIGRATIONS))
            # checkpoints (the only fsyncs under synchronous=normal) run on a background thread,
            # off the order path; the WAL itself is the durable record
            self.db.execute("PRAGMA wal_autocheckpoint=0")
            # after a checkpoint restarts the WAL, SQLite cuts the file back to the bound
            self.db.execute(f"PRAGMA journal_size_limit={wal_max_bytes}")
        except (sqlite3.DatabaseError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise JournalError(
                f"{path}: journal is damaged or not a journal ({reason}); {RECOVERY_HINT}"
            ) from None
        self.failed: str | None = None  # the first write failure (disk full, I/O error)
        self.failure: JournalWriteFailed | None = None
        self.on_failure: Callable[[str], None] | None = None  # the app halts trading
        self._depth = 0
        self._lazy_open = False  # a transaction holding only lazy writes (acknowledgements)
        self.size_at_open = self.logical_size()
        # (seq, parent id) of an order about to be recorded: the router notes it, the recorder
        # writes it in the order's INSERT (one statement fewer per order than an UPDATE after)
        self.lineage: dict[str, tuple[int, str | None]] = {}
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="journal-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_INTERVAL_S):
                with contextlib.suppress(sqlite3.Error):  # busy: the next round will do it
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    # ------------------------------------------------------------------ schema
    def _check_integrity(self) -> None:
        row = self.db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {row[0] if row else 'no answer'}")

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version == 0 and tables(self.db):  # someone else's database: never add ours to it
            raise sqlite3.DatabaseError("a SQLite file of another program (no inavd schema)")
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
    def _write_failed(self, exc: sqlite3.Error) -> JournalWriteFailed:
        """One line for the operator; the app's callback halts trading and stops the run."""
        if self.failure is None:
            self.failed = f"{type(exc).__name__}: {exc}"
            self.failure = JournalWriteFailed(
                f"{self.path}: journal write failed ({self.failed}); trading halted. Fix the"
                " cause (free disk space, the device, permissions), then restart: the journal is"
                " intact up to its last commit"
            )
            if self.on_failure is not None:
                self.on_failure(self.failed)
        return self.failure

    def begin(self) -> None:
        """Transactions nest: only the outermost `commit` makes the work durable."""
        if self._depth == 0 and not self._lazy_open:
            self._run("BEGIN")
        self._lazy_open = False  # an open lazy transaction becomes part of this one
        self._depth += 1

    def write_lazily(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write that may wait for the next commit (or `commit_lazy`). Only for records the
        broker can give back after a crash (acknowledgements): never for intents or fills."""
        if self._depth == 0 and not self._lazy_open:
            self._run("BEGIN")
            self._lazy_open = True
        self._run(sql, params)

    def commit_lazy(self) -> None:
        """Make pending lazy writes durable (called between batches and on stop)."""
        if self._lazy_open and self._depth == 0:
            self._run("COMMIT")
            self._lazy_open = False
            self._bound_wal()

    def commit(self) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self._run("COMMIT")
            if not self._lazy_open:
                self._bound_wal()

    def _bound_wal(self) -> None:
        """Past its bound the WAL is checkpointed and restarted here, between transactions:
        rare (the background thread's passive checkpoints usually keep up), and the only
        thing that bounds the file while writes never pause."""
        if self.wal.over():
            # a reader in the middle of a read pins the WAL: wait for it at most briefly (the
            # order path is waiting) and try again at the next commit
            self.db.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                self.wal.truncations += busy == 0
            except sqlite3.Error:
                pass
            finally:
                self.db.execute("PRAGMA busy_timeout=5000")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together (or not at all if the process dies)."""
        self.begin()
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0 and self.db.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have ended it
                    self.db.execute("ROLLBACK")
            raise
        self.commit()

    def flush(self) -> None:
        """Commit anything open and fold the WAL into the main file (graceful stop)."""
        while self._depth:
            self.commit()
        self.commit_lazy()
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._run(sql, params)

    def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self.db.execute(sql, params)
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise  # the caller's mistake or expectation (a duplicate key), not the disk's
        except sqlite3.DatabaseError as exc:
            raise self._write_failed(exc) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self.db.executemany(sql, rows)
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise
        except sqlite3.DatabaseError as exc:
            raise self._write_failed(exc) from None

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """An INSERT that returns the new row's id."""
        return int(self.db.execute(sql, params).lastrowid or 0)

    def logical_size(self) -> int:
        """The database's size with everything committed folded in (pages × page size)."""
        pages = int(self.db.execute("PRAGMA page_count").fetchone()[0])
        return pages * int(self.db.execute("PRAGMA page_size").fetchone()[0])

    def storage(self) -> dict[str, int]:
        """Journal size, its growth since this process opened it, the WAL's peak (bytes)."""
        now = self.logical_size()
        return {
            "journal_bytes": now,
            "journal_growth_bytes": now - self.size_at_open,
            "wal_peak_bytes": self.wal.peak,
            "wal_max_bytes": self.wal.max_bytes,
            "wal_truncations": self.wal.truncations,
        }

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, params).fetchall()

    def close(self) -> None:
        self._stop.set()
        self._checkpointer.join(timeout=5)
        while self._depth:
            self.commit()
        self.commit_lazy()
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.db.close()


class WalBound:
    """Watches the WAL file's size (one `stat` per commit) and remembers its peak."""

    def __init__(self, wal_path: Path, max_bytes: int) -> None:
        self.wal_path = wal_path
        self.max_bytes = max_bytes
        self.peak = 0
        self.truncations = 0

    def size(self) -> int:
        try:
            return os.stat(self.wal_path).st_size
        except FileNotFoundError:
            return 0

    def over(self) -> bool:
        """Half the bound: one more transaction then still fits under it."""
        size = self.size()
        if size > self.peak:
            self.peak = size
        return size > self.max_bytes // 2


def _create(path: Path, durable: bool = True) -> None:
    """Build a new journal beside the target and rename it into place: a crash during creation
    never leaves a half-made file that would later look like a damaged (or empty) journal.
    `durable` False (`synchronous = "off"`): no fsync, as SQLite then does none either."""
    tmp = path.with_name(path.name + ".new")
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    with tmp.open("wb") as fh:
        fh.write(_empty_journal())
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


@functools.cache
def _empty_journal() -> bytes:
    """The bytes of an empty journal at the latest schema, already in WAL mode, built once per
    process: a process that creates many journals (every day of a backtest has its own) would
    otherwise run the schema's 66 statements (≈ 2.5 ms) and the switch to WAL (a connection
    and four syncs of a rollback journal) each time. The latest schema in one transaction; an
    existing journal still migrates version by version, each step a transaction of its own
    (`Journal._migrate`)."""
    with tempfile.TemporaryDirectory(prefix="inavd-journal-") as tmp:
        path = Path(tmp) / "empty.sqlite"
        db = sqlite3.connect(str(path), isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=OFF")  # a scratch file: only its bytes are kept
            db.execute("BEGIN IMMEDIATE")
            for script in MIGRATIONS:
                for stmt in _statements(script):
                    db.execute(stmt)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
            db.execute("PRAGMA journal_mode=WAL")  # persistent: opening it needs no conversion
        finally:
            db.close()  # the last connection: the WAL is folded in and removed
        return path.read_bytes()


def _check_file(path: Path) -> None:
    """Catch truncation SQLite itself would not notice (an empty file is a valid empty db)."""
    if not path.exists():
        return
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise sqlite3.DatabaseError(f"truncated or not SQLite ({size} bytes)")
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96]  # in-header size is current
    wal = Path(f"{path}-wal")
    # a crash during a checkpoint can leave the file short; the WAL still has those pages
    mid_checkpoint = wal.exists() and wal.stat().st_size > 0
    if header_valid and not mid_checkpoint and size < page * pages:
        raise sqlite3.DatabaseError(f"truncated: {size} bytes, header says {page * pages}")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
