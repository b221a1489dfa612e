"""A new journal is created at the latest schema in one transaction; a journal of any older
version still migrates step by step, to exactly the same schema, keeping its rows."""

from __future__ import annotations

import marshal
import sqlite3
from pathlib import Path

import pytest

from inavd import startup_cache
from inavd.execution import journal
from inavd.execution.journal import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Journal,
    _empty_journal,
    _statements,
)
from inavd.execution.journal_schema import check_schema


def _schema(db: sqlite3.Connection) -> list[tuple[str, str, str, str | None]]:
    return db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()


def _journal_at(path: Path, version: int) -> None:
    """A journal as version `version` of inavd left it: one transaction per migration."""
    db = sqlite3.connect(str(path), isolation_level=None)
    for v, script in enumerate(MIGRATIONS[:version]):
        db.execute("BEGIN")
        for stmt in (s.strip() for s in script.split(";")):
            if stmt:
                db.execute(stmt)
        db.execute(f"PRAGMA user_version={v + 1}")
        db.execute("COMMIT")
    db.execute(
        "INSERT INTO runs (run_id, started_ns, feed) VALUES ('old', 1, 'replay sample')"
    )
    db.close()


def test_a_new_journal_is_created_at_the_latest_version_in_one_transaction(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.sqlite"
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = real_connect(*args, **kwargs)  # type: ignore[arg-type]
        db.set_trace_callback(statements.append)
        return db

    _empty_journal.cache_clear()  # built once per process: trace its building
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(startup_cache, "folder_of", lambda module_file: str(tmp_path / "cache"))
        mp.setattr(sqlite3, "connect", traced)
        j = Journal(path)
    try:
        assert j.schema_version == SCHEMA_VERSION
        assert j.query("PRAGMA journal_mode") == [("wal",)]
        assert not path.with_name(path.name + ".new").exists()
        # one COMMIT builds every table: the creating connection runs no per-version commit
        creating = statements[: statements.index(f"PRAGMA user_version={SCHEMA_VERSION}") + 2]
        assert [s for s in creating if s.startswith(("BEGIN", "COMMIT"))] == [
            "BEGIN IMMEDIATE",
            "COMMIT",
        ]
        assert not any(s.startswith("PRAGMA user_version=") for s in creating[:-2])
    finally:
        j.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_an_old_journal_migrates_to_the_schema_a_new_one_is_created_with(
    tmp_path: Path, version: int
) -> None:
    new, old = tmp_path / "new.sqlite", tmp_path / "old.sqlite"
    Journal(new).close()
    _journal_at(old, version)
    j = Journal(old)
    try:
        assert j.schema_version == SCHEMA_VERSION
        assert j.query("SELECT run_id, feed FROM runs") == [("old", "replay sample")]
        fresh = sqlite3.connect(str(new))
        try:
            assert _schema(j.db) == _schema(fresh)
        finally:
            fresh.close()
    finally:
        j.close()


def test_journals_created_from_one_image_are_independent_files(tmp_path: Path) -> None:
    """A process builds the empty journal once and writes its bytes for every new file (a
    backtest creates one a day): each file is its own, in WAL mode, at the latest schema (what
    opening an existing journal checks, and a new one no longer needs to)."""
    first, second = Journal(tmp_path / "a.sqlite"), Journal(tmp_path / "b.sqlite")
    try:
        first.execute("INSERT INTO runs (run_id, started_ns, feed) VALUES ('r1', 1, 'x')")
        assert first.query("SELECT run_id FROM runs") == [("r1",)]
        assert second.query("SELECT run_id FROM runs") == []
        for j in (first, second):
            assert j.schema_version == SCHEMA_VERSION
            assert j.query("PRAGMA journal_mode") == [("wal",)]
            assert j.query("PRAGMA integrity_check") == [("ok",)]
            check_schema(j.db, tuple(tuple(_statements(m)) for m in MIGRATIONS))
    finally:
        first.close()
        second.close()


def test_the_empty_journal_is_kept_for_the_next_process_and_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A later start takes the bytes an earlier one built (no schema statement runs); bytes
    that do not match their digest, or kept for another schema, are built again."""
    cache = tmp_path / "cache"
    monkeypatch.setattr(startup_cache, "folder_of", lambda module_file: str(cache))
    monkeypatch.setattr(startup_cache.sys, "dont_write_bytecode", False)
    built: list[bytes] = []
    real_build = journal._build_empty_journal

    def counted() -> bytes:
        built.append(real_build())
        return built[-1]

    monkeypatch.setattr(journal, "_build_empty_journal", counted)

    def new_process() -> bytes:
        _empty_journal.cache_clear()
        return _empty_journal()

    first = new_process()
    assert len(built) == 1 and first == built[0]
    (entry,) = cache.iterdir()
    assert new_process() == first and len(built) == 1  # taken from the entry
    path = tmp_path / "kept.sqlite"
    j = Journal(path)
    try:
        assert j.schema_version == SCHEMA_VERSION
        check_schema(j.db, tuple(tuple(_statements(m)) for m in MIGRATIONS))
    finally:
        j.close()
    # damaged bytes: their digest no longer matches, so they are built again and replaced
    key, (digest, data) = marshal.loads(entry.read_bytes())
    entry.write_bytes(marshal.dumps((key, (digest, data[:-1] + b"x"))))
    assert new_process() == first and len(built) == 2
    assert new_process() == first and len(built) == 2
    # another schema: another key
    monkeypatch.setattr(journal, "MIGRATIONS", [*MIGRATIONS, "CREATE TABLE extra (x INTEGER)"])
    new_process()
    assert len(built) == 3
    monkeypatch.setattr(journal, "MIGRATIONS", MIGRATIONS)
    _empty_journal.cache_clear()
    # nothing written where no bytecode is
    entry.unlink()
    monkeypatch.setattr(startup_cache.sys, "dont_write_bytecode", True)
    new_process()
    assert not list(cache.iterdir())
    assert journal.warm_cache() == str(entry) and entry.exists()  # install steps write anyway
