"""Replay input that is refused or repaired, never misread: null and unknown symbols, prices
outside the sanity band, unparseable columns, naive timestamps, unsorted files, and a replay's
memory that does not grow with the file."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import structlog

from inavd.book.quote_book import QuoteBook, SanityBand
from inavd.domain.quotes import QuoteBatch
from inavd.errors import DataError
from inavd.feeds.columns import to_batch
from inavd.feeds.replay import ReplayFeed

SYMS = ("SPY", "SH", "UPRO")
INDEX = {s: i for i, s in enumerate(SYMS)}
T0 = 1576765800_000_000_000  # 2019-12-19 09:30 New York, epoch ns
S = 1_000_000_000


def _frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": T0 + np.arange(n, dtype=np.int64) * S,
            "symbol": (["SPY", "SH", "UPRO"] * n)[:n],
            "bid": ([319.0, 25.0, 75.0] * n)[:n],
            "ask": ([319.02, 25.01, 75.05] * n)[:n],
            "bid_size": 100.0,
            "ask_size": 100.0,
        }
    )


def _collect(feed: ReplayFeed) -> QuoteBatch:
    async def run() -> list[QuoteBatch]:
        return [b async for b in feed.batches()]

    parts = asyncio.run(run())
    cols = [np.concatenate([getattr(p, c) for p in parts]) for c in QuoteBatch.__struct_fields__]
    return QuoteBatch(*cols)


# ------------------------------------------------------------------ symbols
def test_null_symbols_are_unknown_never_the_last_symbol_of_the_table() -> None:
    df = _frame(6)
    df["symbol"] = pd.array(["SPY", None, "SH", None, "UPRO", "XYZ"], dtype="string")
    b = to_batch(df, INDEX)
    assert b.sym.tolist() == [0, -1, 1, -1, 2, -1]
    book = QuoteBook(SYMS)
    assert book.apply(b) == 3
    assert book.rejected_by_reason()["unknown_symbol"] == 3
    assert book.updates.tolist() == [1, 1, 1]  # UPRO got its one real quote, not the nulls


# ------------------------------------------------------------------ sanity band
def _one(book: QuoteBook, ts: int, i: int, bid: float, ask: float) -> int:
    return book.apply(QuoteBatch.of([ts], [i], [bid], [ask], [100], [100]))


def test_prices_outside_the_band_are_outliers_counted_not_applied() -> None:
    book = QuoteBook(SYMS, sanity=SanityBand(jump_ratio=1.25, jump_window_s=60, close_ratio=4))
    book.set_prior_close({"SH": 25.0, "UPRO": 75.0})
    assert _one(book, T0, 1, 1e300, 1e300) == 0  # 1e300: 4e298 × the prior close
    assert _one(book, T0 + S, 1, 5.0, 5.02) == 0  # 0.2 × the prior close, no mid yet
    assert _one(book, T0 + 2 * S, 1, 24.9, 24.92) == 1
    assert _one(book, T0 + 3 * S, 1, 31.5, 31.6) == 0  # +26.6 % in one second: a jump
    assert _one(book, T0 + 4 * S, 1, 30.9, 31.0) == 1  # +24.3 %: inside 1.25×
    # a gap after a 2-minute halt: the last mid is too old to judge, the prior close decides
    assert _one(book, T0 + 200 * S, 1, 45.0, 45.1) == 1
    assert _one(book, T0 + 201 * S, 2, 1e-4, 2e-4) == 0  # UPRO: no mid, far below its close
    assert book.rejected_by_reason()["outlier"] == 4
    assert book.bid[1] == pytest.approx(45.0)
    assert 1e300 not in book.bid


def test_without_a_band_nothing_is_an_outlier() -> None:
    book = QuoteBook(SYMS)
    book.set_prior_close({"SH": 25.0})
    assert _one(book, T0, 1, 1e6, 1e6 + 1) == 1


# ------------------------------------------------------------------ unparseable columns
def test_text_in_a_price_column_is_one_line_naming_file_column_and_row(tmp_path: Path) -> None:
    df = _frame(6).astype({"ask": object})
    df.loc[4, "ask"] = "n/a?"
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        ReplayFeed(path, INDEX)
    assert str(err.value) == f"{path}: column ask: row 5: 'n/a?' is not a number"


def test_an_empty_ts_is_one_line_naming_the_row(tmp_path: Path) -> None:
    df = _frame(6).astype({"ts": "Int64"})
    df.loc[3, "ts"] = pd.NA
    path = tmp_path / "bad.parquet"
    df.to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"bad.parquet: column ts: row 4: empty timestamp$"):
        ReplayFeed(path, INDEX)


def test_a_ts_that_is_not_a_time_names_the_row_even_in_a_later_chunk(tmp_path: Path) -> None:
    df = _frame(10)
    text = pd.to_datetime(df["ts"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df["ts"] = text.where(df.index != 8, "yesterday")
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column ts: row 9: 'yesterday' is not a time$"):
        ReplayFeed(path, INDEX, chunk_rows=3)


# ------------------------------------------------------------------ time zones
def _naive_csv(tmp: Path) -> Path:
    df = _frame(3)
    df["ts"] = ["2019-12-19 09:30:00", "2019-12-19 09:30:01", "2019-12-19 09:30:02"]
    path = tmp / "naive.csv"
    df.to_csv(path, index=False)
    return path


def test_naive_timestamps_are_refused_without_a_zone(tmp_path: Path) -> None:
    path = _naive_csv(tmp_path)
    with pytest.raises(DataError, match=r"row 1: '2019-12-19 09:30:00' has no UTC offset.*--tz"):
        ReplayFeed(path, INDEX)


def test_naive_timestamps_are_read_in_the_zone_given(tmp_path: Path) -> None:
    feed = ReplayFeed(_naive_csv(tmp_path), INDEX, tz="America/New_York")
    assert _collect(feed).ts_ns.tolist() == [T0, T0 + S, T0 + 2 * S]  # 14:30 UTC
    utc = ReplayFeed(_naive_csv(tmp_path), INDEX, tz="UTC")  # 09:30 UTC is 04:30 in New York
    assert _collect(utc).ts_ns[0] == T0 - 5 * 3600 * S
    with pytest.raises(DataError, match=r"'Mars/Olympus' is not a known time zone"):
        ReplayFeed(_naive_csv(tmp_path), INDEX, tz="Mars/Olympus")


def test_cli_refuses_naive_timestamps_with_one_line_and_exit_2(tmp_path: Path) -> None:
    from tests.kit.paths import DEFAULT_CONFIG

    cmd = [sys.executable, "-m", "inavd", "replay", "--config", str(DEFAULT_CONFIG)]
    env = {**os.environ, "INAVD_RUN__DATA_DIR": str(tmp_path)}
    p = subprocess.run(
        [*cmd, "--input", str(_naive_csv(tmp_path))], capture_output=True, text=True, env=env
    )
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1 and "has no UTC offset" in err[0], p.stderr


# ------------------------------------------------------------------ order
def test_an_unsorted_file_is_sorted_with_a_warning_not_dropped(tmp_path: Path) -> None:
    df = _frame(9)
    shuffled = df.sample(frac=1.0, random_state=4).reset_index(drop=True)
    path = tmp_path / "unsorted.parquet"
    shuffled.to_parquet(path, index=False)
    feed = ReplayFeed(path, INDEX, chunk_rows=4)
    assert not feed.in_order and len(feed) == 9
    with structlog.testing.capture_logs() as logs:
        got = _collect(feed)
    assert [e["event"] for e in logs] == [
        "quote file is not in time order: sorted in memory (stable, by ts)"
    ]
    assert got.ts_ns.tolist() == df["ts"].tolist()
    book = QuoteBook(SYMS)
    assert book.apply(got) == 9 and book.rejected_by_reason()["out_of_order"] == 0


def test_a_sorted_file_is_streamed_in_order(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    _frame(10).to_csv(path, index=False)
    feed = ReplayFeed(path, INDEX, chunk_rows=3)
    assert feed.in_order and len(feed) == 10
    assert _collect(feed).ts_ns.tolist() == _frame(10)["ts"].tolist()


# ------------------------------------------------------------------ declared order
def _declared(tmp: Path, df: pd.DataFrame, name: str = "d.parquet") -> Path:
    """`df` written as a file that declares it is sorted by ts (true or not), 4 rows a group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp / name
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, row_group_size=4, sorting_columns=[pq.SortingColumn(0)])
    return path


def test_a_written_session_declares_its_order_and_skips_the_first_pass(tmp_path: Path) -> None:
    """`write_quote_table` (behind `inavd sample` and the research days) declares the order of
    quotes in time order; the scan read from the footer equals the full scan, for two days."""
    from inavd.feeds.columns import write_quote_table
    from inavd.feeds.quote_file import QuoteFile

    written = tmp_path / "one.parquet"
    write_quote_table(written, _frame(9))
    assert QuoteFile(written).scan().rows == 9 and ReplayFeed(written, INDEX).file.declared_order
    df = pd.concat([_frame(8), _frame(4).assign(ts=lambda d: d["ts"] + 86_400 * S)])
    df = df.reset_index(drop=True)
    footer = QuoteFile(_declared(tmp_path, df))  # groups of 4: each inside one day
    a = footer.scan()
    assert footer.declared_order
    plain = tmp_path / "plain.parquet"
    df.to_parquet(plain, index=False)  # no declaration: scanned
    scanned = QuoteFile(plain)
    c = scanned.scan()
    assert not scanned.declared_order
    assert (a.per_day, a.in_order, a.rows) == (c.per_day, c.in_order, c.rows) == (
        {date(2019, 12, 19): 8, date(2019, 12, 20): 4}, True, 12)
    feed = ReplayFeed(footer.path, INDEX, day=date(2019, 12, 20), chunk_rows=3)
    assert _collect(feed).ts_ns.tolist() == (_frame(4)["ts"] + 86_400 * S).tolist()


def test_quotes_out_of_order_are_written_without_a_declaration(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from inavd.feeds.columns import write_quote_table

    path = tmp_path / "u.parquet"
    write_quote_table(path, _frame(9).sample(frac=1.0, random_state=4).reset_index(drop=True))
    assert pq.ParquetFile(path).metadata.row_group(0).sorting_columns == ()
    assert not ReplayFeed(path, INDEX).in_order


def test_a_file_that_declares_a_false_order_is_refused_at_the_row(tmp_path: Path) -> None:
    """Row groups in order by their statistics, but rows 6 and 7 swapped inside the second."""
    df = _frame(12)
    df.loc[[5, 6], "ts"] = df.loc[[6, 5], "ts"].to_numpy()
    feed = ReplayFeed(_declared(tmp_path, df), INDEX, chunk_rows=2)
    assert feed.file.declared_order and len(feed) == 12
    with pytest.raises(DataError, match=r"row 7 goes back in time, although the file declares"):
        _collect(feed)


def test_a_declaration_the_statistics_contradict_falls_back_to_the_scan(tmp_path: Path) -> None:
    """A row group spanning two days, or row groups that overlap: the first pass reads ts."""
    df = _frame(8)
    df.loc[3, "ts"] = T0 + 86_400 * S + 1  # the first group (rows 0–3) ends the next day
    feed = ReplayFeed(_declared(tmp_path, df, "days.parquet"), INDEX, chunk_rows=3)
    assert not feed.file.declared_order and not feed.in_order
    swapped = pd.concat([_frame(8).iloc[4:], _frame(8).iloc[:4]], ignore_index=True)
    feed = ReplayFeed(_declared(tmp_path, swapped, "groups.parquet"), INDEX, chunk_rows=3)
    assert not feed.file.declared_order and not feed.in_order
    assert _collect(feed).ts_ns.tolist() == _frame(8)["ts"].tolist()


def test_the_bundled_session_declares_its_order() -> None:
    from inavd.feeds.quote_file import QuoteFile
    from inavd.feeds.sample import sample_session_path

    qf = QuoteFile(sample_session_path())
    scan = qf.scan()
    assert qf.declared_order and scan.rows == 1_163_786 and scan.in_order


# ------------------------------------------------------------------ streaming
def _big(tmp: Path, n: int) -> Path:
    rng = np.random.default_rng(n)
    df = pd.DataFrame(
        {
            "ts": T0 + np.sort(rng.integers(0, 6 * 3600 * S, n)),
            "symbol": pd.Categorical(rng.choice(SYMS, n)),
            "bid": rng.uniform(20, 30, n),
            "ask": rng.uniform(30, 31, n),
            "bid_size": 100.0,
            "ask_size": 100.0,
        }
    )
    path = tmp / f"q{n}.parquet"
    df.to_parquet(path, index=False, row_group_size=50_000)
    return path


def _peak_bytes(path: Path) -> int:
    """Peak of Python and numpy memory (tracemalloc) plus the most Arrow held at any batch:
    Arrow's buffers (the Parquet reader's) are not seen by tracemalloc."""
    import pyarrow as pa

    feed = ReplayFeed(path, INDEX, chunk_rows=50_000, batch_max=8192)
    arrow = 0

    async def drain() -> int:
        nonlocal arrow
        n = 0
        async for b in feed.batches():
            n += len(b)
            arrow = max(arrow, pa.total_allocated_bytes())
        return n

    tracemalloc.start()
    try:
        assert asyncio.run(drain()) == len(feed)
        return tracemalloc.get_traced_memory()[1] + arrow
    finally:
        tracemalloc.stop()


def test_replay_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, large = _big(tmp_path, 200_000), _big(tmp_path, 1_000_000)
    a, b = _peak_bytes(small), _peak_bytes(large)
    # the whole large file as quote arrays alone is 1e6 × 44 bytes = 44 MB. With Arrow pre-buffering
    # column chunks (its default) this measured 35 MB for the large file, 7 MB without
    assert b < 1.3 * a and b < 25e6, (a, b)


# ------------------------------------------------------------------ typed Parquet without pandas
def _via_pandas(path: Path, tz: str = "") -> list[QuoteBatch]:
    """The same file through the pandas reader and its checks (the path of CSV files)."""
    from inavd.feeds.quote_file import QuoteFile

    qf = QuoteFile(path, tz, chunk_rows=4)
    day = qf.scan().days[0]
    return [to_batch(chunk, INDEX) for chunk in qf.chunks(day)]


def _same(a: QuoteBatch, b: QuoteBatch) -> None:
    for c in QuoteBatch.__struct_fields__:
        np.testing.assert_array_equal(getattr(a, c), getattr(b, c), err_msg=c)


def test_typed_parquet_read_from_arrow_equals_the_pandas_reading(tmp_path: Path) -> None:
    """Nulls included: a null symbol is unknown, a null price NaN, int sizes become floats; a
    quote of another day is left out; the bundled session's first batches too."""
    df = _frame(12)
    df["symbol"] = pd.Categorical(["SPY", None, "SH", "XYZ", "UPRO", "SH"] * 2)
    df["bid"] = pd.array([319.0, None, 25.0, 1.0, 75.0, 25.1] * 2, dtype="Float64")
    df["ask_size"] = np.arange(12, dtype=np.int32)
    df.loc[11, "ts"] = T0 + 86_400 * S  # the next day
    path = tmp_path / "typed.parquet"
    df.to_parquet(path, index=False, row_group_size=5)
    feed = ReplayFeed(path, INDEX, chunk_rows=4)
    assert feed.file._arrow and len(feed) == 11
    got = _collect(feed)
    want = _via_pandas(path)
    _same(got, QuoteBatch(*[np.concatenate([getattr(p, c) for p in want])
                            for c in QuoteBatch.__struct_fields__]))  # fmt: skip
    assert got.sym.tolist()[:6] == [0, -1, 1, -1, 2, 1] and np.isnan(got.bid[1])


def test_day_numbers_without_pandas_equal_pandas_across_dst() -> None:
    from inavd.feeds.quote_file import ny_day_numbers as _days

    rng = np.random.default_rng(3)
    march = pd.Timestamp("2019-03-10 06:59:59", tz="UTC").value  # a second before 03:00 EDT
    cases = [
        march + np.arange(-3, 4, dtype=np.int64) * S,  # one chunk over the spring change
        pd.Timestamp("2019-11-03 05:30", tz="UTC").value + np.arange(0, 7200, 600) * S,
        rng.integers(0, 60 * 365 * 86_400, 5_000, dtype=np.int64) * S,  # 1970…2030, any order
        np.array([T0], dtype=np.int64),
    ]
    for ts in cases:
        utc = pd.DatetimeIndex(ts.astype("datetime64[ns]"), tz="UTC")
        local = utc.tz_convert("America/New_York")
        want = local.tz_localize(None).asi8 // (86_400 * S)
        np.testing.assert_array_equal(_days(ts), want)
