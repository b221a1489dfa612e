"""Composition of the bounded journal: the snapshot writer and the storage report per run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from inavd.execution.snapshots import SnapshotWriter, snapshot_dir

if TYPE_CHECKING:
    from inavd.book.quote_book import QuoteBook
    from inavd.bus import Bus
    from inavd.execution.journal import Journal
    from inavd.execution.recorder import JournalRecorder
    from inavd.inav.engine import InavEngine
    from inavd.settings import Config


class Built(Protocol):
    """What these helpers read of the app (which satisfies it): no import of the app itself."""

    @property
    def cfg(self) -> Config: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def run_id(self) -> str: ...
    @property
    def engine(self) -> InavEngine: ...
    @property
    def book(self) -> QuoteBook: ...
    @property
    def bus(self) -> Bus: ...
    @property
    def recorder(self) -> JournalRecorder: ...
    @property
    def snapshots(self) -> SnapshotWriter | None: ...


def build_snapshot_writer(app: Built) -> SnapshotWriter | None:
    s = app.cfg.settings
    if not s.journal.snapshots:
        return None
    every_s = s.journal.snapshot_every_s
    writer = SnapshotWriter(
        snapshot_dir(app.journal.path),
        app.run_id,
        app.engine.fund_symbols,
        app.book.index,
        lambda: app.book.spread_bp,
        every_n=max(1, round(every_s / s.inav.interval_s)) if every_s else 1,
        segment_rows=s.journal.snapshot_segment_rows,
    )
    writer.attach(app.bus)
    return writer


def storage_summary(app: Built) -> dict[str, Any]:
    """What this run added to disk: journal growth, the WAL's peak, iNAV history written."""
    out: dict[str, Any] = dict(app.journal.storage())
    out["denial_repeats_counted"] = app.recorder.denials.repeats
    w = app.snapshots
    if w is not None:
        out |= {
            "snapshot_rows": w.stats.kept_rows,
            "snapshot_peak_held_rows": w.stats.peak_held_rows,
            "snapshot_segments": w.stats.segments,
            "snapshot_bytes": w.stats.bytes,
            "snapshot_dir": str(w.dir),
        }
    return out
