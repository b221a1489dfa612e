"""iNAV history in Parquet segments: what is read back is what was evaluated; the cadence keeps
every fund every n-th evaluation and the traded funds at every one."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inavd.bus import Bus
from inavd.domain.events import InavEvaluated, OrderSubmitted
from inavd.domain.orders import OrderRequest, Side
from inavd.execution.snapshots import SnapshotWriter, _Pending, read_snapshots, snapshot_dir

SYMBOLS = ("SH", "SDS", "SPXU", "PSQ", "QID")
BOOK = {s: i for i, s in enumerate(("SPY", "QQQ", *SYMBOLS))}


def _event(rng: np.random.Generator, seq: int) -> InavEvaluated:
    n = len(SYMBOLS)
    inav = rng.uniform(10, 80, n)
    mid = inav * (1 + rng.normal(0, 5e-4, n))
    prem = (mid / inav - 1) * 1e4
    prem[rng.random(n) < 0.1] = np.nan  # a fund without a quote yet
    return InavEvaluated(
        ts_ns=1_000 + seq * 15_000_000_000, symbols=SYMBOLS, inav=inav, mid=mid,
        premium_bp=prem, benchmark_move=rng.normal(0, 0.01, n), flow_usd=rng.normal(0, 1e6, n),
        seq=seq,
    )  # fmt: skip


def _writer(tmp: Path, spreads: np.ndarray, **kw: int) -> SnapshotWriter:
    return SnapshotWriter(
        snapshot_dir(tmp / "journal.sqlite"), "run1", SYMBOLS, BOOK, lambda: spreads, **kw
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), evals=st.integers(1, 60), seg=st.integers(1, 40))
def test_history_read_back_equals_what_was_evaluated(
    tmp_path_factory: pytest.TempPathFactory, seed: int, evals: int, seg: int
) -> None:
    tmp = tmp_path_factory.mktemp("snap")
    rng = np.random.default_rng(seed)
    spreads = rng.uniform(1, 20, len(BOOK))
    w = _writer(tmp, spreads, segment_rows=seg)
    events = [_event(rng, k) for k in range(1, evals + 1)]
    for ev in events:
        w.on_inav(ev)
    stats = w.close()
    df = read_snapshots(tmp / "journal.sqlite", "run1")
    assert len(df) == evals * len(SYMBOLS) == stats.kept_rows
    # a segment is cut once `seg` rows are pending (whole evaluations), the rest at close
    per_segment = -(-seg // len(SYMBOLS))  # evaluations
    assert stats.segments == -(-evals // per_segment)
    for ev in (events[0], events[-1], events[len(events) // 2]):  # sampled evaluations
        rows = df[df["seq"] == ev.seq].set_index("symbol").loc[list(SYMBOLS)]
        assert (rows["ts_ns"] == ev.ts_ns).all()
        np.testing.assert_array_equal(rows["inav"].to_numpy(), ev.inav)
        np.testing.assert_array_equal(rows["premium_bp"].to_numpy(), ev.premium_bp)  # NaN kept
        np.testing.assert_array_equal(rows["flow_usd"].to_numpy(), ev.flow_usd)
        expected_spread = spreads[[BOOK[s] for s in SYMBOLS]]
        np.testing.assert_array_equal(rows["spread_bp"].to_numpy(), expected_spread)


def test_cadence_keeps_every_fund_every_nth_and_traded_funds_always(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    w = _writer(tmp_path, np.full(len(BOOK), 5.0), every_n=4, segment_rows=7)
    bus = Bus()
    w.attach(bus)
    for k in range(1, 11):
        if k == 3:  # an order for SDS between evaluations 2 and 3
            bus.publish(OrderSubmitted(k, OrderRequest("c1", "SDS", Side.BUY, 10)))
        bus.publish(_event(rng, k))
    w.close()
    df = read_snapshots(tmp_path / "journal.sqlite", "run1")
    per_seq = df.groupby("seq")["symbol"].apply(lambda s: sorted(s)).to_dict()
    everyone = sorted(SYMBOLS)
    # evaluations 1, 5, 9 keep every fund; 2 nothing (nothing traded yet); 3.. SDS always
    assert per_seq == {
        1: everyone, 3: ["SDS"], 4: ["SDS"], 5: everyone, 6: ["SDS"], 7: ["SDS"], 8: ["SDS"],
        9: everyone, 10: ["SDS"],
    }  # fmt: skip


def test_a_resumed_run_appends_segments(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    for first in (1, 4):
        w = _writer(tmp_path, np.ones(len(BOOK)), segment_rows=5)
        for k in range(first, first + 3):
            w.on_inav(_event(rng, k))
        w.close()
    df = read_snapshots(tmp_path / "journal.sqlite", "run1")
    assert sorted(set(df["seq"])) == [1, 2, 3, 4, 5, 6]
    assert len(list((snapshot_dir(tmp_path / "journal.sqlite") / "run1").iterdir())) == 6


class _SlowWriter(SnapshotWriter):
    """A writer thread far slower than the evaluations (a busy disk)."""

    def _write_segment(self, p: _Pending) -> None:
        time.sleep(0.01)
        super()._write_segment(p)


def test_history_held_in_memory_is_bounded_when_the_writer_falls_behind(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    seg, n = 7, len(SYMBOLS)
    w = _SlowWriter(
        snapshot_dir(tmp_path / "journal.sqlite"), "run1", SYMBOLS, BOOK,
        lambda: np.ones(len(BOOK)), segment_rows=seg,
    )  # fmt: skip
    events = [_event(rng, k) for k in range(1, 81)]
    for ev in events:
        w.on_inav(ev)
    stats = w.close()
    # a segment is cut at ≥ seg rows (whole evaluations): one filling, one waiting, one written
    assert seg < stats.peak_held_rows <= 3 * (seg + n - 1)
    df = read_snapshots(tmp_path / "journal.sqlite", "run1")  # the evaluations waited, none lost
    assert len(df) == stats.kept_rows == 80 * n
    last = df[df["seq"] == 80].set_index("symbol").loc[list(SYMBOLS)]
    np.testing.assert_array_equal(last["inav"].to_numpy(), events[-1].inav)


@pytest.mark.parametrize("concat_below", [1, 10**9], ids=["chunk-per-evaluation", "contiguous"])
def test_traded_funds_only_evaluations_read_back_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concat_below: int
) -> None:
    """Evaluations of a subset (the traded funds) are kept beside full ones, whether a segment
    writes an evaluation as a chunk of its own (many funds) or joins them into one column (few)."""
    import inavd.execution.snapshots as snapshots

    monkeypatch.setattr(snapshots, "_CONCAT_BELOW_ROWS", concat_below)
    rng = np.random.default_rng(11)
    w = _writer(tmp_path, np.arange(len(BOOK), dtype=float), every_n=3, segment_rows=9)
    w.mark_traded("QID")
    w.mark_traded("SH")
    events = [_event(rng, k) for k in range(1, 8)]
    for ev in events:
        w.on_inav(ev)
    w.close()
    df = read_snapshots(tmp_path / "journal.sqlite", "run1")
    for ev in events:
        rows = df[df["seq"] == ev.seq].set_index("symbol")
        kept = list(SYMBOLS) if (ev.seq - 1) % 3 == 0 else ["SH", "QID"]
        assert sorted(rows.index) == sorted(kept)
        idx = [SYMBOLS.index(s) for s in kept]
        np.testing.assert_array_equal(rows.loc[kept, "mid"].to_numpy(), ev.mid[idx])
        np.testing.assert_array_equal(rows.loc[kept, "inav"].to_numpy(), ev.inav[idx])
        np.testing.assert_array_equal(rows.loc[kept, "premium_bp"].to_numpy(), ev.premium_bp[idx])
        np.testing.assert_array_equal(
            rows.loc[kept, "spread_bp"].to_numpy(), np.array([BOOK[s] for s in kept], float)
        )


def test_a_run_that_never_fills_a_segment_writes_it_at_close_without_a_thread(
    tmp_path: Path,
) -> None:
    """Most replays keep less than a segment: no writer thread is started, close writes the one
    segment itself (a second close writes nothing more); a run that fills one starts it."""
    rng = np.random.default_rng(3)
    w = _writer(tmp_path / "a", np.ones(len(BOOK)), segment_rows=100)
    events = [_event(rng, k) for k in range(1, 4)]
    for ev in events:
        w.on_inav(ev)
    assert w._thread is None
    assert w.close().segments == 1
    assert w.close().segments == 1
    df = read_snapshots(tmp_path / "a" / "journal.sqlite", "run1")
    assert df["seq"].tolist() == [e.seq for e in events for _ in SYMBOLS]
    filled = _writer(tmp_path / "b", np.ones(len(BOOK)), segment_rows=len(SYMBOLS))
    filled.on_inav(events[0])
    assert filled._thread is not None
    assert filled.close().segments == 1
    assert not filled._thread.is_alive()


class _FailingWriter(SnapshotWriter):
    def _write_segment(self, p: _Pending) -> None:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("segment_rows", [100, len(SYMBOLS)], ids=["at-close", "on-the-thread"])
def test_a_segment_that_cannot_be_written_is_reported_at_close(
    tmp_path: Path, segment_rows: int
) -> None:
    """The last segment has no later hand-off to raise its failure: close says it, once."""
    import structlog

    rng = np.random.default_rng(5)
    w = _FailingWriter(
        snapshot_dir(tmp_path / "journal.sqlite"), "run1", SYMBOLS, BOOK,
        lambda: np.ones(len(BOOK)), segment_rows=segment_rows,
    )  # fmt: skip
    w.on_inav(_event(rng, 1))
    with structlog.testing.capture_logs() as logs:
        w.close()
        w.close()
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [e["event"] for e in errors] == ["iNAV history not fully written"]
    assert "No space left on device" in errors[0]["error"]
