"""The journal's tables checked against the schema its migrations build.

A table or column dropped by hand (or a file of another program that happens to be SQLite) would
otherwise pass the integrity check and fail later, on the order path; refusing it at start-up
gives the operator one line naming what is missing.
"""

from __future__ import annotations

import functools
import sqlite3


def tables(db: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """Table → column names (SQLite's own tables left out)."""
    names = [
        n
        for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        if not n.startswith("sqlite_")
    ]
    return {n: frozenset(r[1] for r in db.execute(f"PRAGMA table_info('{n}')")) for n in names}


@functools.cache
def expected(migrations: tuple[tuple[str, ...], ...]) -> dict[str, frozenset[str]]:
    """What the migrations build, from an in-memory database (once per process)."""
    db = sqlite3.connect(":memory:")
    try:
        for statements in migrations:
            for stmt in statements:
                db.execute(stmt)
        return tables(db)
    finally:
        db.close()


def check_schema(db: sqlite3.Connection, migrations: tuple[tuple[str, ...], ...]) -> None:
    have = tables(db)
    want = expected(migrations)
    missing = sorted(t for t in want if t not in have)
    if missing:
        raise sqlite3.DatabaseError(f"missing table(s) {', '.join(missing)}")
    for table, cols in want.items():
        lost = sorted(cols - have[table])
        if lost:
            raise sqlite3.DatabaseError(f"table {table} lacks column(s) {', '.join(lost)}")
