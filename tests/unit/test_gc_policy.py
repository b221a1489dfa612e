"""Start-up GC: `inavd run` pauses the collector while it builds, the freeze collects only what
it must (young garbage, or a previous app's whole graph), and the collector always comes back."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from inavd import gcpolicy


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(gcpolicy, "_process", gcpolicy._Process())
    was = gc.isenabled()
    gc.enable()
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
    gc.enable() if was else gc.disable()


def _old_garbage() -> weakref.ref[_Node]:
    node = _Node()
    gc.collect()  # a survivor: now in the oldest generation
    ref = weakref.ref(node)
    del node
    return ref


def test_paused_start_up_freezes_without_collecting(fresh_process: None) -> None:
    gcpolicy.pause()
    assert not gc.isenabled()
    young = weakref.ref(_Node())  # start-up garbage: a cycle dropped while building
    state = gcpolicy.freeze()
    assert gc.isenabled()
    assert young() is not None  # kept (frozen), not walked
    gcpolicy.thaw(state)
    gc.collect()
    assert young() is None  # freed once thawed


def test_a_running_collector_sweeps_only_the_young_generations(fresh_process: None) -> None:
    old = _old_garbage()
    young = weakref.ref(_Node())
    state = gcpolicy.freeze()
    try:
        assert young() is None and old() is not None
    finally:
        gcpolicy.thaw(state)


def test_after_an_app_ran_the_next_freeze_collects_fully(fresh_process: None) -> None:
    gcpolicy.thaw(gcpolicy.freeze())  # one app built and stopped in this process
    old = _old_garbage()  # like its graph: cycles in the oldest generation
    state = gcpolicy.freeze()
    try:
        assert old() is None
    finally:
        gcpolicy.thaw(state)


def test_the_collector_comes_back_when_a_run_stops_before_its_freeze(
    fresh_process: None, tmp_path: Path
) -> None:
    from inavd.cli import main

    assert main(["run", "--config", str(tmp_path / "missing.toml")]) != 0
    assert gc.isenabled()
