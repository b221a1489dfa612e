"""A truncated or corrupted journal is a clear error naming the file, never a silent reset."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import structlog

from inavd.cli import main
from inavd.errors import JournalError
from inavd.execution.journal import Journal
from tests.kit.paths import DEFAULT_CONFIG


def _journal(tmp: Path) -> Path:
    path = tmp / "journal.sqlite"
    j = Journal(path)
    j.begin()
    for k in range(3000):
        j.execute(
            "INSERT INTO signals (run_id, ts_ns, strategy, symbol, target_qty, reason)"
            " VALUES (?,?,?,?,?,?)",
            ("r", k, "s", "SH", k, "x" * 40),
        )
    j.commit()
    j.flush()
    j.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "damage",
    ["truncate_half", "truncate_to_zero", "truncate_header", "garbage_header", "garbage_pages"],
)
def test_damaged_journal_is_refused_with_the_file_named(tmp_path: Path, damage: str) -> None:
    path = _journal(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncate_half":
        data = data[: len(data) // 2]
    elif damage == "truncate_to_zero":
        data = bytearray()
    elif damage == "truncate_header":
        data = data[:50]
    elif damage == "garbage_header":
        data[0:16] = b"not a database!!"
    else:  # overwrite the b-tree pages in the middle of the file
        mid = len(data) // 2
        data[mid : mid + 8192] = bytes(range(256)) * 32
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises(JournalError) as err:
        Journal(path)
    msg = str(err.value)
    assert str(path) in msg and "docs/execution.md" in msg
    assert _digest(path) == before  # untouched: never reset, never "repaired" in place


def test_the_cli_prints_one_line_and_exits_nonzero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 40)  # a torn header
    monkeypatch.setenv("INAVD_RUN__DATA_DIR", str(tmp_path))
    try:
        code = main(["run", "--config", str(DEFAULT_CONFIG), "--quiet"])
    finally:
        structlog.reset_defaults()  # the CLI bound logging to this test's captured stderr
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and str(path) in err[0] and "Journal recovery" in err[0]
