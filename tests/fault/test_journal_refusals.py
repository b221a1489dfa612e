"""Every damaged-journal case is one line naming the file; a full disk halts trading and exits
with code 3 (which the service unit does not restart into), not with a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from inavd.cli import main
from inavd.execution.journal import SCHEMA_VERSION, Journal
from tests.kit.opskit import write_config
from tests.kit.paths import DEFAULT_CONFIG, ROOT


def _run_cli(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    monkeypatch.setenv("INAVD_RUN__DATA_DIR", str(data_dir))
    try:
        code = main(["run", "--config", str(DEFAULT_CONFIG), "--quiet"])
    finally:
        structlog.reset_defaults()  # the CLI bound logging to this test's captured stderr
    return code, capsys.readouterr().err.strip().splitlines()


def _drop_table(path: Path) -> None:
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE fills")


def _drop_column(path: Path) -> None:
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE orders DROP COLUMN reason")


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, jpeg BLOB)")


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda p: p.mkdir(), "it is a directory"),
        (_drop_table, "missing table(s) fills"),
        (_drop_column, "table orders lacks column(s) reason"),
        (_foreign, "a SQLite file of another program"),
    ],
    ids=["directory", "dropped_table", "dropped_column", "foreign_sqlite"],
)
def test_damaged_journal_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: object,
    why: str,
) -> None:
    path = tmp_path / "journal.sqlite"
    damage(path)  # type: ignore[operator]
    code, err = _run_cli(tmp_path, monkeypatch, capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith(f"inavd: error: {path}: journal is damaged")
    assert why in err[0] and "Journal recovery" in err[0]
    if path.is_file():  # a foreign file is left as it was: no inavd table added to it
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] in (0, SCHEMA_VERSION)
            if damage is _foreign:
                names = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
                assert names == {"photos"}


def test_deeply_nested_config_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "deep.toml"
    cfg.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert main(["check-config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(cfg) in err[0] and "nested too deeply" in err[0]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs root and mount permission, else the test is skipped)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    cmd = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)]
    if os.geteuid() != 0 or subprocess.run(cmd, capture_output=True).returncode != 0:
        pytest.skip("needs root and permission to mount a tmpfs (the disk-full case)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_disk_full_halts_and_exits_3_without_a_traceback(
    tmp_path: Path, small_disk: Path
) -> None:
    ops = {"enabled": True, "port": 0}
    # the model-driven session: its premium noise keeps orders (and journal writes) coming all
    # day, enough to fill the small disk (the real session's premiums trade a few times only)
    feed = {"kind": "synthetic", "session": "2019-12-19", "seed": 20191219}
    cfg = write_config(tmp_path, {"ops": ops, "feed": feed})
    env = {**os.environ, "INAVD_RUN__DATA_DIR": str(small_disk)}
    out = subprocess.run(
        [sys.executable, "-m", "inavd", "run", "--config", str(cfg), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
        cwd=ROOT,
    )
    assert out.returncode == 3, out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"inavd: error: {small_disk / 'journal.sqlite'}: journal write failed")
    assert "full" in last and "trading halted" in last
    assert '"new": "halted"' in out.stderr and "journal write failed" in out.stderr
