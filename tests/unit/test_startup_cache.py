"""Entries beside the bytecode: used only for their own key, replaced whole, never in the way."""

from __future__ import annotations

from pathlib import Path

import pytest

from inavd import startup_cache, warm_caches
from inavd.startup_cache import Entry


@pytest.fixture
def folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(startup_cache, "folder_of", lambda module_file: str(tmp_path / "pyc"))
    monkeypatch.setattr(startup_cache.sys, "dont_write_bytecode", False)
    return tmp_path / "pyc"


def test_an_entry_answers_only_its_own_key(folder: Path) -> None:
    Entry(__file__, "x", ("a", 1)).store({"v": (1.5, b"b")})
    assert Entry(__file__, "x", ("a", 1)).load() == {"v": (1.5, b"b")}
    assert Entry(__file__, "x", ("a", 2)).load() is None
    assert Entry(__file__, "y", ("a", 1)).load() is None
    Entry(__file__, "x", ("a", 2)).store("new")  # replaces the entry whole
    assert Entry(__file__, "x", ("a", 1)).load() is None
    assert Entry(__file__, "x", ("a", 2)).load() == "new"
    assert [p.name for p in folder.iterdir()] == [Path(Entry(__file__, "x", 0).path or "").name]


def test_a_damaged_or_unwritable_entry_is_not_used(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = Entry(__file__, "x", "k")
    e.store([1, 2])
    Path(e.path or "").write_bytes(b"\x00garbage")
    assert e.load() is None
    Path(e.path or "").write_bytes(b"")
    assert e.load() is None
    e.store(object())  # not marshallable: nothing is left behind
    assert e.load() is None
    assert sorted(p.name for p in folder.iterdir()) == [Path(e.path or "").name]  # no .tmp
    monkeypatch.setattr(startup_cache.sys, "dont_write_bytecode", True)
    Path(e.path or "").unlink()
    e.store([1])
    assert e.load() is None
    e.store([1], always=True)  # install steps write anyway
    assert e.load() == [1]


def test_install_steps_write_every_entry(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert warm_caches.main() == 0
    written = capsys.readouterr().out.split()
    assert len(written) == 2 and all(Path(p).parent == folder for p in written)
    assert {Path(p).name.split(".")[0] for p in written} == {"gates", "journal"}
