"""SQLite journal (WAL) behind a redo log: orders, fills, positions, signals and denials.

The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[i]` upgrades version i to i + 1.
A second run appends to the same file. A damaged file is an error naming the file, never a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from inavd import startup_cache
from inavd.errors import JournalError, JournalWriteFailed
from inavd.execution import redo
from inavd.execution.journal_schema import check_schema, tables
from inavd.execution.redo import Statement

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
    # v6 -> v7: the redo log in front of SQLite (docs/execution.md, 'Journal write path'): the
    # sequence number of the last redo frame applied, written in the apply's own transaction
    """
    CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO journal_meta VALUES ('applied_seq', 0);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
CHECKPOINT_INTERVAL_S = 1.0
WAL_MAX_BYTES = 64 * 1024 * 1024
CHECKPOINT_WAIT_MS = 20
# the backstop: committed frames applied on the spot past these, whatever `defer` does
PENDING_MAX_RECORDS = 512
PENDING_MAX_BYTES = 1024 * 1024
APPLY_DELAY_S = 0.05  # with `defer_on_loop`: how long committed frames wait for SQLite
REDO_RESET_BYTES = 1024 * 1024  # the redo log is emptied after an apply once it is this long
SET_APPLIED = "UPDATE journal_meta SET value=? WHERE key='applied_seq'"

RECOVERY_HINT = (
    "move the file aside (keep it for inspection), then either restore the last backup or start "
    "with a new journal and let start-up reconciliation adopt the broker's open orders and "
    "positions; see docs/execution.md, 'Journal recovery'"
)

log = structlog.get_logger(__name__)


def defer_on_loop(fn: Callable[[], None]) -> None:
    """The app's `defer`: run `fn` on the running event loop `APPLY_DELAY_S` from now, so one
    apply takes in every commit of that interval (group commit) and runs between steps, never
    inside one. Raises RuntimeError outside a loop (the journal then applies at the next read,
    at its bound or at close)."""
    asyncio.get_running_loop().call_later(APPLY_DELAY_S, fn)


class Journal:
    """SQLite behind a redo log. A transaction's statements are buffered between `begin` and the
    outermost `commit`; the commit appends them to the redo log as one frame (the write-ahead
    commit: one `write`, plus an fdatasync under `synchronous = "full"`). Committed frames are
    applied to SQLite later, many per SQLite transaction (group commit): when `defer` runs the
    apply (the app passes `defer_on_loop`), when the pending frames pass a bound,
    before every read and at flush/close. Each apply records the last sequence number applied
    (`journal_meta.applied_seq`) in the same transaction; opening the journal applies whatever
    a crash left in the log beyond it."""

    def __init__(
        self,
        path: Path,
        synchronous: str = "normal",
        wal_max_bytes: int = WAL_MAX_BYTES,
        defer: Callable[[Callable[[], None]], object] | None = None,
        pending_max_records: int = PENDING_MAX_RECORDS,
    ) -> None:
        self.path = path
        self.redo_path = Path(f"{path}-redo")
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
        self._tx: list[Statement] = []  # the open transaction's statements
        # lazy writes (acknowledgements) outside a transaction: they join the next transaction,
        # the next apply or `commit_lazy`, whichever comes first
        self._lazy: list[Statement] = []
        self._pending: list[list[Statement]] = []  # in the redo log, not yet in SQLite
        self._pending_bytes = 0
        self.pending_max_records = pending_max_records
        # an apply writes its frames' pages in one WAL transaction: keep it well under the bound
        self.pending_max_bytes = min(PENDING_MAX_BYTES, wal_max_bytes // 16)
        self._defer = defer
        self._scheduled = False
        self._closed = False
        self.applies = 0  # SQLite transactions that applied redo frames
        self.refused = 0  # statements SQLite refused when applied (constraint), skipped
        self.redo_torn = 0  # torn last frames dropped when the journal was opened
        self.redo_recovered = 0  # frames applied from the redo log when it was opened
        self._seq = self._recover(created, sync=synchronous.lower() == "full")
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

    # ------------------------------------------------------------------ redo log
    def _recover(self, created: bool, sync: bool) -> int:
        """Apply what the redo log holds beyond `applied_seq` (a crash before the apply), drop
        a torn last frame, empty the log; the next sequence number continues from there."""
        try:
            self.redo = redo.RedoLog(self.redo_path, sync)
        except BlockingIOError:
            self.db.close()
            raise JournalError(
                f"{self.path} is in use by another inavd (its redo log is locked); refusing a"
                " second writer on the same journal"
            ) from None
        except OSError as exc:
            self.db.close()
            raise JournalError(f"{self.redo_path}: cannot open the redo log ({exc})") from None
        try:
            found = redo.scan(self.redo_path)
            if created and found.records:
                raise redo.RedoDamaged(
                    "a redo log without its journal (the journal was moved or deleted); move it"
                    " aside with the journal's other files"
                )
            applied = self.applied_seq()
            todo = [stmts for seq, stmts in found.records if seq > applied]
            last = max(applied, found.last_seq)
            if todo:
                self._apply_records(todo, last)
            self.redo.truncate()
        except (redo.RedoDamaged, OSError, sqlite3.DatabaseError) as exc:
            self.redo.close(remove=False)
            self.db.close()
            raise JournalError(
                f"{self.redo_path}: redo log is damaged or cannot be applied ({exc}); the"
                f" journal's transactions after that point cannot be trusted; {RECOVERY_HINT}"
            ) from None
        self.redo_torn = found.torn
        self.redo_recovered = len(todo)
        if found.torn:
            log.warning("journal redo log: torn last frame dropped", path=str(self.redo_path),
                        bytes=found.torn_bytes)  # fmt: skip
        if todo:  # the last stop was not clean: say what was carried over
            log.info("journal redo log: commits applied after an unclean stop",
                     path=str(self.redo_path), commits=len(todo))  # fmt: skip
        return last

    def applied_seq(self) -> int:
        """The last redo frame whose statements are in SQLite."""
        row = self.db.execute("SELECT value FROM journal_meta WHERE key='applied_seq'").fetchone()
        return int(row[0]) if row else 0

    def _append(self, statements: list[Statement]) -> None:
        """The write-ahead commit of one transaction."""
        data = redo.frame(self._seq + 1, statements)  # a parameter it cannot encode raises here
        try:
            self.redo.append(data)
        except OSError as exc:
            raise self._write_failed(exc) from None
        self._seq += 1
        self._pending.append(statements)
        self._pending_bytes += len(data)
        if (
            len(self._pending) >= self.pending_max_records
            or self._pending_bytes >= self.pending_max_bytes
        ):
            self._apply(raise_failure=False)  # the backstop: memory and WAL stay bounded
        else:
            self._schedule()

    def _schedule(self) -> None:
        if self._scheduled or self._defer is None:
            return
        try:
            self._defer(self._deferred_apply)
        except RuntimeError:  # no event loop running: the next read, bound or close applies
            return
        self._scheduled = True

    def _deferred_apply(self) -> None:
        self._scheduled = False
        if not self._closed:
            self._apply(raise_failure=False)

    def apply(self) -> None:
        """Bring SQLite up to date with every commit (and every lazy write)."""
        self._apply(raise_failure=True)

    def _apply(self, raise_failure: bool) -> None:
        if not self._pending and not self._lazy:
            return
        try:
            # lazy writes come after every committed frame (a commit takes them in)
            self._apply_records([*self._pending, self._lazy], self._seq if self._pending else None)
        except sqlite3.DatabaseError as exc:
            failure = self._write_failed(exc)  # the frames stay in the redo log and in memory
            if raise_failure:
                raise failure from None
            return
        self._pending, self._pending_bytes, self._lazy = [], 0, []
        if self.redo.size >= REDO_RESET_BYTES:
            # every frame in it is ≤ applied_seq now. Not after every apply: appending to a file
            # just cut to zero allocates its blocks again (a write then costs ≈ 3× as much)
            with contextlib.suppress(OSError):  # left in place, reopening skips its frames
                self.redo.truncate()
        self._bound_wal()

    def _apply_records(self, records: Iterable[Sequence[Statement]], seq: int | None) -> None:
        """One SQLite transaction: the statements in commit order, then `applied_seq`."""
        db = self.db
        db.execute("BEGIN")
        try:
            for statements in records:
                for sql, params in statements:
                    try:
                        db.execute(sql, params)
                    except (sqlite3.IntegrityError, sqlite3.ProgrammingError) as exc:
                        # a statement the old write path would have refused to its caller: the
                        # rest of the transaction stands (the frame must not block every apply)
                        self.refused += 1
                        log.error("journal statement refused", sql=sql[:80], error=str(exc))
            if seq is not None:
                db.execute(SET_APPLIED, (seq,))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        self.applies += 1

    # ------------------------------------------------------------------ writes
    def _write_failed(self, exc: BaseException) -> JournalWriteFailed:
        """One line for the operator; the app's callback halts trading and stops the run."""
        if self.failure is None:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.failed = f"{type(exc).__name__}: {detail}"
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
        if self._depth == 0 and self._lazy:
            self._tx, self._lazy = self._lazy, []  # pending lazy writes become part of it
        self._depth += 1

    def write_lazily(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write that may wait for the next commit, apply or `commit_lazy`. Only for records
        the broker can give back after a crash (acknowledgements): never for intents or fills."""
        if self._depth:
            self._tx.append((sql, params))
            return
        self._lazy.append((sql, params))
        self._schedule()

    def commit_lazy(self) -> None:
        """Make pending lazy writes durable (called between batches and on stop)."""
        if self._lazy and self._depth == 0:
            statements, self._lazy = self._lazy, []
            self._append(statements)

    def commit(self) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0 and self._tx:
            statements, self._tx = self._tx, []
            self._append(statements)

    def _bound_wal(self) -> None:
        """Past its bound the WAL is checkpointed and restarted here, after an apply: rare
        (the background thread's passive checkpoints usually keep up), and the only thing
        that bounds the file while writes never pause."""
        if self.wal.over():
            # a reader in the middle of a read pins the WAL: wait for it at most briefly and
            # try again after the next apply
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
            if self._depth == 0:
                self._tx = []  # rolled back: nothing of it was written anywhere
            raise
        self.commit()

    def flush(self) -> None:
        """Commit anything open, apply everything, fold the WAL into the main file (stop)."""
        while self._depth:
            self.commit()
        self.apply()
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Inside a transaction: one of its statements. Outside, it joins pending lazy writes
        or, when there are none, is a transaction of its own."""
        if self._depth:
            self._tx.append((sql, params))
        elif self._lazy:
            self._lazy.append((sql, params))
        else:
            self._append([(sql, params)])

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        statements: list[Statement] = [(sql, row) for row in rows]
        if self._depth:
            self._tx.extend(statements)
        elif self._lazy:
            self._lazy.extend(statements)
        elif statements:
            self._append(statements)

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """An INSERT that returns the new row's id: written to SQLite at once, after everything
        committed before it (an id cannot wait for the apply). Rows whose id a caller keeps
        (a denial kind's first row) stand on their own, outside any open transaction."""
        self.apply()
        try:
            return int(self.db.execute(sql, params).lastrowid or 0)
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise  # the caller's mistake or expectation (a duplicate key), not the disk's
        except sqlite3.DatabaseError as exc:
            raise self._write_failed(exc) from None

    def logical_size(self) -> int:
        """The database's size with everything committed folded in (pages × page size)."""
        self.apply()
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
        """A read sees every commit; inside a transaction, also that transaction's writes."""
        self.apply()
        if not (self._depth and self._tx):
            return self.db.execute(sql, params).fetchall()
        self.db.execute("BEGIN")
        try:
            for tx_sql, tx_params in self._tx:
                with contextlib.suppress(sqlite3.IntegrityError, sqlite3.ProgrammingError):
                    self.db.execute(tx_sql, tx_params)
            return self.db.execute(sql, params).fetchall()
        finally:
            self.db.execute("ROLLBACK")  # the transaction commits through the redo log

    def close(self) -> None:
        self._stop.set()
        self._checkpointer.join(timeout=5)
        applied = False
        try:
            while self._depth:
                self.commit()
            self.apply()
            applied = True
        finally:
            self._closed = True
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self.db.close()
            # every frame is in SQLite: the log goes; one that could not be applied stays
            self.redo.close(remove=applied)


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
    (`Journal._migrate`). Kept beside this module's bytecode for the next process as well
    (`inavd.startup_cache`; building it cost every start ≈ 4 ms), for exactly this schema and
    this SQLite, with a digest of the bytes that is checked before they are used: a new journal
    is not checked again once written."""
    entry = _template_entry()
    stored = entry.load()
    if isinstance(stored, tuple) and len(stored) == 2:
        digest, data = stored
        if isinstance(data, bytes) and hashlib.sha256(data).digest() == digest:
            return data
    data = _build_empty_journal()
    _keep(entry, data)
    return data


def _template_entry() -> startup_cache.Entry:
    schema = hashlib.sha256("\x00".join(MIGRATIONS).encode()).hexdigest()
    return startup_cache.Entry(
        __file__, "journal.empty", (schema, SCHEMA_VERSION, sqlite3.sqlite_version)
    )


def warm_cache() -> str | None:
    """Keep the empty journal even where Python writes no bytecode (install steps). Its path, or
    None if it could not be kept."""
    entry = _template_entry()
    _keep(entry, _build_empty_journal(), always=True)
    return entry.path if entry.load() is not None else None


def _keep(entry: startup_cache.Entry, data: bytes, always: bool = False) -> None:
    entry.store((hashlib.sha256(data).digest(), data), always)


def _build_empty_journal() -> bytes:
    """The empty journal's bytes, built (`_empty_journal`)."""
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
