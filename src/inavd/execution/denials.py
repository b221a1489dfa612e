"""Denials journaled once per kind: a repeat of the same gate, symbol and reason is counted.

At a large universe most signals of an evaluation are denied by the same gate every time (a gross
limit that is already full), so writing every denial would make the journal grow with the
universe × the evaluations. The first denial of a kind is a row; later ones add to its `repeats`
and move `last_ts_ns` / `last_reason` forward. Numbers in the reason (amounts, prices, ages) do not
make a denial a new kind: "gross 1,020,000 USD > 1,000,000" and "gross 1,031,000 USD > 1,000,000"
are the same denial. The bus still carries every denial (the summary and metrics count them all).
"""

from __future__ import annotations

import re

import msgspec

from inavd.domain.events import OrderDenied
from inavd.execution.journal import Journal

_NUMBER = re.compile(r"[-+−]?\d[\d,]*(?:\.\d+)?")
INSERT_DENIAL = (
    "INSERT INTO denials (run_id, ts_ns, gate, reason, symbol, client_order_id)"
    " VALUES (?,?,?,?,?,?)"
)
UPDATE_REPEATS = "UPDATE denials SET repeats=?, last_ts_ns=?, last_reason=? WHERE id=?"


def denial_kind(gate: str, symbol: str, reason: str | None) -> tuple[str, str, str]:
    return gate, symbol, _NUMBER.sub("#", reason or "")


class _Kind(msgspec.Struct):
    row_id: int
    repeats: int = 0
    last_ts_ns: int = 0
    last_reason: str | None = None
    dirty: bool = False


class DenialLog:
    def __init__(self) -> None:
        self.kinds: dict[tuple[str, str, str], _Kind] = {}
        self._dirty: list[_Kind] = []
        self.repeats = 0  # denials counted on an existing row instead of written

    def record(self, journal: Journal, run_id: str, ev: OrderDenied) -> None:
        key = denial_kind(ev.gate, ev.request.symbol, ev.reason)
        kind = self.kinds.get(key)
        if kind is None:
            row = (run_id, ev.ts_ns, ev.gate, ev.reason, ev.request.symbol,
                   ev.request.client_order_id)  # fmt: skip
            self.kinds[key] = _Kind(journal.insert(INSERT_DENIAL, row))
            return
        kind.repeats += 1
        kind.last_ts_ns = ev.ts_ns
        kind.last_reason = ev.reason
        self.repeats += 1
        if not kind.dirty:
            kind.dirty = True
            self._dirty.append(kind)

    def flush(self, journal: Journal) -> None:
        """Write the counts that changed (lazily: they commit with the next batch)."""
        for kind in self._dirty:
            journal.write_lazily(
                UPDATE_REPEATS, (kind.repeats, kind.last_ts_ns, kind.last_reason, kind.row_id)
            )
            kind.dirty = False
        self._dirty.clear()
