"""What makes a process that replays many days cheap per day: bundled days built once into a
shared folder (keyed by their inputs, safe for tasks side by side), the collector run around each
day, per-process caches that still see a changed file or a different input (daily closes, the
GARCH fit), the built quotes merged in time order, and a task's journal written without a
sync."""

from __future__ import annotations

import gc
import weakref
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inavd.domain.instruments import Fund, Universe
from inavd.errors import ConfigError
from inavd.execution import journal
from inavd.feeds import columns, sample
from inavd.feeds.real_session import time_ordered
from inavd.research.days import DaySource
from inavd.research.grid import parse_grid
from inavd.research.task import DayTask, day_collector, runner_overrides
from inavd.settings import Config
from inavd.signals import volatility
from inavd.signals.factory import load_daily_returns
from inavd.signals.garch import fit_garch11
from inavd.signals.volatility import garch_daily_vol

DAY = date(2025, 4, 9)
QQQ_ONLY = Universe(("QQQ",), (Fund("TQQQ", "QQQ", 3.0, 0.0084),))
BOTH = Universe(("QQQ",), (Fund("TQQQ", "QQQ", 3.0, 0.0084), Fund("SQQQ", "QQQ", -3.0, 0.0095)))


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[date, Universe]]:
    """Every build of a day's quotes, each a two-quote table (no bars read)."""
    calls: list[tuple[date, Universe]] = []

    def build(day: date, universe: Universe, seed: int) -> pd.DataFrame:
        calls.append((day, universe))
        return pd.DataFrame(
            {"ts": [1, 2], "symbol": ["QQQ", "QQQ"], "bid": [1.0, 1.0], "ask": [1.01, 1.01],
             "bid_size": [100.0, 100.0], "ask_size": [100.0, 100.0]}
        )  # fmt: skip

    monkeypatch.setattr(sample, "build_day_session", build)
    return calls


def test_a_day_is_built_once_per_inputs_into_a_shared_folder(
    builds: list[tuple[date, Universe]], tmp_path: Path
) -> None:
    first = sample.session_file(DAY, QQQ_ONLY, tmp_path)
    again = sample.session_file(DAY, QQQ_ONLY, tmp_path)  # a second task, another setting
    other = sample.session_file(DAY, BOTH, tmp_path)  # other funds: another file
    assert first == again != other
    assert len(builds) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, other.name])
    assert sample.build_key(QQQ_ONLY) == sample.build_key(QQQ_ONLY) != sample.build_key(BOTH)


def test_a_write_cut_short_leaves_nothing_behind(
    builds: list[tuple[date, Universe]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def cut_short(path: Path, df: pd.DataFrame) -> None:
        path.write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(columns, "write_quote_table", cut_short)
    with pytest.raises(OSError):
        sample.session_file(DAY, QQQ_ONLY, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no partial file another task could take as built


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_day_collector_frees_the_days_cycles_and_restores_the_collector() -> None:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    with day_collector():
        node = _Node()
        alive = weakref.ref(node)
        del node
        assert alive() is not None
        assert gc.get_freeze_count() > frozen  # what existed before the day is out of the walk
    assert alive() is None
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)


def test_daily_returns_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "closes.csv"
    path.write_text("symbol,date,close\nSPY,2020-01-02,100\nSPY,2020-01-03,110\n")
    first = load_daily_returns(str(path), date(2020, 1, 6))["SPY"]
    assert first == pytest.approx([np.log(1.1)])
    path.write_text("symbol,date,close\nSPY,2020-01-02,100\nSPY,2020-01-03,90\nSPY,2020-01-06,99\n")
    after = load_daily_returns(str(path), date(2020, 1, 6))["SPY"]  # the 6th is not before
    assert after == pytest.approx([np.log(0.9)])
    assert load_daily_returns(str(path), None)["SPY"] == pytest.approx([np.log(0.9), np.log(1.1)])


def test_garch_fit_cached_by_the_exact_series(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same returns give the very fit a fresh estimation gives, without fitting again; any
    other series (even one value changed in its last bit) is fitted afresh."""
    rng = np.random.default_rng(7)
    r = rng.normal(0.0, 0.01, 300) * (1 + 0.5 * np.sin(np.arange(300) / 20))
    fits: list[int] = []

    def counted(y: np.ndarray) -> object:
        fits.append(y.size)
        return fit_garch11(y)

    monkeypatch.setattr(volatility, "fit_garch11", counted)
    volatility._fit_of.cache_clear()
    first = garch_daily_vol(r)
    again = garch_daily_vol(r.copy())
    assert (first.method, fits) == ("garch", [300])
    assert again == first
    fresh = fit_garch11(100.0 * r)
    assert volatility._fit_of((100.0 * r).tobytes()) == fresh  # identical to an uncached fit
    other = r.copy()
    other[-1] = np.nextafter(other[-1], 1.0)
    garch_daily_vol(other)
    other[-1] *= 3.0
    changed = garch_daily_vol(other)
    assert fits == [300, 300, 300]
    assert changed.annual != first.annual  # its own fit, not the cached one
    assert volatility._fit_of.cache_info().maxsize == 16  # bounded
    volatility._fit_of.cache_clear()  # fits of the wrapped estimator: not for later tests


def test_a_task_journal_is_written_without_sync(
    default_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task runs again from an empty folder if it does not finish, so its journal is created
    and written with `synchronous = "off"`; the key cannot be swept. A daemon's journal is still
    synced when created."""
    task = DayTask("t", default_config, DaySource(DAY, "sample"), str(tmp_path / "t"))
    assert runner_overrides(task)["journal.synchronous"] == "off"
    with pytest.raises(ConfigError, match="set by the research runner"):
        parse_grid(["journal.synchronous=normal,full"])
    syncs: list[int] = []
    monkeypatch.setattr(journal.os, "fsync", syncs.append)
    journal.Journal(tmp_path / "off.sqlite", "off").close()
    assert syncs == []
    journal.Journal(tmp_path / "normal.sqlite").close()
    assert len(syncs) == 1


def test_time_ordered_merges_symbols_stably_as_a_category() -> None:
    ones = np.ones(2)
    parts = [
        ("SPY", np.array([1, 3]), ones, ones * 2, ones * 3, ones * 4),
        ("QQQ", np.array([1, 2]), ones * 5, ones * 6, ones * 7, ones * 8),
    ]
    df = time_ordered(parts)  # type: ignore[arg-type]
    assert df["ts"].tolist() == [1, 1, 2, 3]
    assert df["symbol"].astype(str).tolist() == ["SPY", "QQQ", "QQQ", "SPY"]  # ties: part order
    assert list(df["symbol"].cat.categories) == ["QQQ", "SPY"]
    assert df["bid"].tolist() == [1.0, 5.0, 5.0, 1.0]
    assert df["ask_size"].tolist() == [4.0, 8.0, 8.0, 4.0]
