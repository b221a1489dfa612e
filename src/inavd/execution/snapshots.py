"""iNAV history off the hot path: Parquet segments per run, written by a background thread.

Every evaluation's arrays are kept by reference (the engine never reuses them); every
`every_n`-th evaluation keeps all funds, the others only the funds traded this run. When
`segment_rows` rows are pending they go to a writer thread as one batch, which writes the
evaluations' arrays as chunks of the columns (no concatenated copy of large evaluations; small
ones are joined into one column, far cheaper to write) to
`<journal stem>.snapshots/<run id>/seg-NNNNNN.parquet` (atomically: a temporary file renamed into
place). At most one segment waits while another is written, so the history held in memory is at
most three segments whatever the disk's pace (`stats.peak_held_rows`; a segment of 64 k rows is
about 3.5 MB); the evaluations wait for the writer rather than grow the backlog. The journal's
SQLite file is not touched, so the order path's write-ahead commits never wait for history.
History still in memory when the process is killed is lost; orders, fills and positions are not
(they are in the journal).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import numpy.typing as npt
import structlog

from inavd.arrow_np import strings, to_arrow
from inavd.bus import Bus
from inavd.domain.events import InavEvaluated, OrderFilled, OrderSubmitted

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = structlog.get_logger(__name__)

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
VALUE_COLUMNS = ("inav", "mid", "premium_bp", "bench_move", "flow_usd", "spread_bp")


def snapshot_dir(journal_path: Path) -> Path:
    """Where a journal's snapshot segments live (beside the journal file)."""
    return journal_path.with_name(journal_path.stem + ".snapshots")


class _Pending(msgspec.Struct):
    seq: list[int] = msgspec.field(default_factory=list)
    ts_ns: list[int] = msgspec.field(default_factory=list)
    rows: list[int] = msgspec.field(default_factory=list)
    funds: list[I32 | None] = msgspec.field(default_factory=list)  # None: every fund
    values: list[tuple[F64, ...]] = msgspec.field(default_factory=list)
    n: int = 0


class SnapshotStats(msgspec.Struct):
    evaluations: int = 0  # evaluations seen
    kept_rows: int = 0  # rows written or pending
    segments: int = 0
    bytes: int = 0
    peak_held_rows: int = 0  # most rows in memory at once: filling, waiting and being written


class SnapshotWriter:
    def __init__(
        self,
        directory: Path,
        run_id: str,
        symbols: tuple[str, ...],
        spread_of: dict[str, int],
        spread_bp: Any,
        *,
        every_n: int = 1,
        segment_rows: int = 65_536,
    ) -> None:
        self.dir = directory / run_id
        self.symbols = symbols
        self._fund_index = {s: j for j, s in enumerate(symbols)}
        self._spread_idx = np.array([spread_of[s] for s in symbols], dtype=np.int64)
        self._spread_src = spread_bp  # callable: the book's current spreads (bp)
        self.every_n = max(1, every_n)
        self.segment_rows = max(1, segment_rows)
        self.traded = np.zeros(len(symbols), dtype=bool)
        self._traded_idx: I32 = np.empty(0, dtype=np.int32)
        self.stats = SnapshotStats()
        self._pending = _Pending()
        self._next_segment = _first_free_segment(self.dir)
        # one segment filling, at most one waiting and one being written: at most
        # 3 × (segment_rows + funds − 1) rows in memory, whatever the writer's pace
        self._queue: queue.Queue[_Pending | None] = queue.Queue(maxsize=1)
        self._handed_rows = 0  # rows handed off and not yet written (the writer subtracts)
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._dictionary: pa.Array | None = None  # the symbols, for the writer thread
        self._every = np.arange(len(symbols), dtype=np.int32)  # the fund codes of a full row set
        # started at the first hand-off: a run that never fills a segment (a day of the bundled
        # universe is 15,600 rows) writes its one segment at close, on the closing thread
        self._thread: threading.Thread | None = None
        self._closed = False

    def attach(self, bus: Bus) -> None:
        bus.subscribe(InavEvaluated, self.on_inav)
        bus.subscribe(OrderSubmitted, lambda e: self.mark_traded(e.request.symbol))
        bus.subscribe(OrderFilled, lambda e: self.mark_traded(e.fill.symbol))

    def mark_traded(self, symbol: str) -> None:
        j = self._fund_index.get(symbol)
        if j is not None and not self.traded[j]:
            self.traded[j] = True
            self._traded_idx = np.flatnonzero(self.traded).astype(np.int32)

    # ------------------------------------------------------------------ hot path
    def on_inav(self, ev: InavEvaluated) -> None:
        self.stats.evaluations += 1
        full = (self.stats.evaluations - 1) % self.every_n == 0
        funds: I32 | None = None if full else self._traded_idx
        n = len(self.symbols) if funds is None else len(funds)
        if n == 0:
            return
        spreads = np.asarray(self._spread_src(), dtype=np.float64)[self._spread_idx]
        cols: tuple[F64, ...] = (ev.inav, ev.mid, ev.premium_bp, ev.benchmark_move, ev.flow_usd)
        if funds is not None:
            cols = tuple(c[funds] for c in cols)
            spreads = spreads[funds]
        p = self._pending
        p.seq.append(ev.seq)
        p.ts_ns.append(ev.ts_ns)
        p.rows.append(n)
        p.funds.append(funds)
        p.values.append((*cols, spreads))
        p.n += n
        self.stats.kept_rows += n
        held = p.n + self._handed_rows
        if held > self.stats.peak_held_rows:
            self.stats.peak_held_rows = held
        if p.n >= self.segment_rows:
            self._hand_off()

    def _hand_off(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"snapshot writer failed: {self._error}") from self._error
        p = self._pending
        if p.n:
            with self._lock:
                self._handed_rows += p.n
            self._pending = _Pending()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_loop, name="snapshots", daemon=True
                )
                self._thread.start()
            self._queue.put(p)  # blocks while one segment waits and another is being written

    def close(self) -> SnapshotStats:
        """Write what is pending and wait for the writer (graceful stop; idempotent). Without
        a writer thread the last segment is written here: starting one to hand it a single
        segment and wait for it costs more than writing it."""
        if self._closed:
            return self.stats
        self._closed = True
        if self._thread is None:
            p, self._pending = self._pending, _Pending()
            if p.n:
                self._write(p)
        else:
            if self._error is None:  # after a failure the writer is not handed more
                self._hand_off()
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:  # no later hand-off to raise it: said once, at close
            log.error("iNAV history not fully written", error=str(self._error))
        return self.stats

    # ------------------------------------------------------------------ writer thread
    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._write(item)
            with self._lock:
                self._handed_rows -= item.n

    def _write(self, item: _Pending) -> None:
        """One segment written; a failure is kept and surfaced on the next hand-off."""
        try:
            self._write_segment(item)
        except BaseException as exc:
            self._error = exc

    def _write_segment(self, p: _Pending) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._dictionary is None:  # built once, on this thread: 10,000 names take a while
            self._dictionary = strings(self.symbols)
        rows = np.asarray(p.rows, dtype=np.int64)
        arrays: dict[str, Any] = {
            "seq": to_arrow(np.repeat(np.asarray(p.seq, dtype=np.int64), rows)),
            "ts_ns": to_arrow(np.repeat(np.asarray(p.ts_ns, dtype=np.int64), rows)),
            "symbol": self._symbol_column(p),
        }
        for k, name in enumerate(VALUE_COLUMNS):
            arrays[name] = _column([v[k] for v in p.values], p.n)
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"seg-{self._next_segment:06d}.parquet"
        tmp = path.with_suffix(".tmp")
        # lz4, dictionary only for the symbol, statistics only for the time columns: eight times
        # cheaper than the defaults for a segment of 10,000-fund evaluations, and floats that
        # move every evaluation barely compress anyway (measured: 36 vs 304 ms, 12.6 vs 12.8 MB)
        pq.write_table(
            pa.table(arrays),
            tmp,
            compression="lz4",
            use_dictionary=["symbol"],
            write_statistics=["seq", "ts_ns"],
        )
        os.replace(tmp, path)
        self._next_segment += 1
        self.stats.segments += 1
        self.stats.bytes += path.stat().st_size

    def _symbol_column(self, p: _Pending) -> Any:
        import pyarrow as pa

        names = self._dictionary
        funds = [self._every if f is None else f for f in p.funds]
        if _few_per_chunk(len(funds), p.n):
            return pa.DictionaryArray.from_arrays(to_arrow(np.concatenate(funds)), names)
        return pa.chunked_array(
            [pa.DictionaryArray.from_arrays(to_arrow(f), names) for f in funds]
        )


def _first_free_segment(directory: Path) -> int:
    """A resumed run appends after the segments already written."""
    numbers = [int(p.stem[4:]) for p in _segments(directory)]
    return max(numbers, default=0) + 1


def _segments(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        yield from sorted(directory.glob("seg-*.parquet"))


def read_snapshots(journal_path: Path, run_id: str) -> pd.DataFrame:
    """A run's snapshot history as a pandas DataFrame (ts_ns, seq, symbol, values), in order."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = list(_segments(snapshot_dir(journal_path) / run_id))
    if not files:
        return pd.DataFrame(columns=["ts_ns", "seq", "symbol", *VALUE_COLUMNS])
    table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
    df: pd.DataFrame = table.to_pandas()
    df["symbol"] = df["symbol"].astype(str)
    return df.sort_values(["ts_ns", "seq", "symbol"], kind="stable").reset_index(drop=True)


# Below this many rows per evaluation, one contiguous column is cheaper to write than a chunk
# per evaluation (each chunk costs the Parquet writer a fixed amount: the default day's 1,560
# evaluations of 13 funds took 43 ms as chunks); above it, chunks avoid a concatenated copy of
# a segment of large evaluations (10,000 funds), which would hold the GIL.
_CONCAT_BELOW_ROWS = 1024


def _few_per_chunk(chunks: int, rows: int) -> bool:
    return rows < _CONCAT_BELOW_ROWS * max(1, chunks)


def _column(parts: list[F64], rows: int) -> Any:
    import pyarrow as pa

    if _few_per_chunk(len(parts), rows):
        return to_arrow(np.concatenate(parts))
    return pa.chunked_array([to_arrow(v) for v in parts])
