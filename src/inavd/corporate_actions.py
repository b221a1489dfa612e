"""Corporate actions in the start-of-day reference: proxy dividends and fund distributions.

On a benchmark proxy's ex-dividend date the proxy opens lower by the dividend while the index it
stands for does not (the index's constituents went ex one by one during the quarter), so the move
since the prior close would show a false drop of D / prior close and every fund's iNAV would be off
by L times that. On a fund's own ex-distribution date its NAV drops by the distribution. The fix is
the exchange's own: on the ex-date, use the prior close minus the dividend for the proxy and the
prior NAV minus the distribution for the fund (docs/corporate-actions.md, SPY 2019-12-20).

Sources: the bundled file (`inavd/data/reference/corporate_actions.csv`, see its PROVENANCE.md),
an operator's CSV `ex_date,symbol,cash_amount`, or Alpaca's corporate-actions data (live).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

import msgspec

from inavd.domain.corporate import Adjustment
from inavd.errors import DataError
from inavd.inav.engine import Reference

COLUMNS = ("ex_date", "symbol", "cash_amount")


def bundled_actions_path() -> Path:
    return Path(str(files("inavd") / "data" / "reference" / "corporate_actions.csv"))


class CorporateActions(msgspec.Struct, frozen=True):
    """Cash amounts per share (USD) by (symbol, ex-date)."""

    cash: dict[tuple[str, date], float]
    source: str

    def on(self, day: date, symbols: Iterable[str]) -> dict[str, float]:
        out = {}
        for sym in symbols:
            amount = self.cash.get((sym, day))
            if amount is not None:
                out[sym] = amount
        return out


def read_actions(path: Path) -> CorporateActions:
    """An `ex_date,symbol,cash_amount` CSV; a bad row is an error naming the file and row."""
    if not path.exists():
        raise DataError(f"{path}: corporate-actions file not found")
    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the corporate-actions file: {exc}") from None
    header = rows[0] if rows else []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; expected {', '.join(COLUMNS)}")
    cols = [header.index(c) for c in COLUMNS]
    cash: dict[tuple[str, date], float] = {}
    for line, row in enumerate(rows[1:], 2):
        if not any(field.strip() for field in row):
            continue  # a blank line
        if len(row) != len(header):
            raise DataError(f"{path}: line {line}: expected {len(header)} fields, saw {len(row)}")
        key, value = _row(path, line, *(row[c] for c in cols))
        cash[key] = cash.get(key, 0.0) + value  # two actions on one day add up
    return CorporateActions(cash, str(path))


def _row(path: Path, line: int, d: str, sym: str, amount: str) -> tuple[tuple[str, date], float]:
    try:
        day = date.fromisoformat(d.strip()[:10])
        value = float(amount)
    except ValueError:
        raise DataError(
            f"{path}: line {line}: bad ex_date or cash_amount ({d!r}, {amount!r})"
        ) from None
    if not sym.strip() or not math.isfinite(value) or value < 0:
        raise DataError(f"{path}: line {line}: needs a symbol and a cash_amount >= 0")
    return (sym.strip(), day), value


def bundled_actions() -> CorporateActions:
    """The bundled file, read once per process while it is unchanged (read-only: shared)."""
    path = bundled_actions_path()
    st = path.stat()
    return _bundled(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=1)
def _bundled(path: Path, _mtime_ns: int, _size: int) -> CorporateActions:
    return msgspec.structs.replace(read_actions(path), source="bundled")


def apply_actions(
    ref: Reference,
    actions: dict[str, float],
    benchmarks: Iterable[str],
    day: date,
    source: str = "",
) -> Reference:
    """The reference with proxies' prior closes and funds' prior NAVs reduced by today's cash
    amounts. A fund's own prior close is left alone: its premium is measured against the NAV."""
    bench = set(benchmarks)
    closes = dict(ref.prior_close)
    navs = dict(ref.prior_nav)
    done: list[Adjustment] = list(ref.adjustments)
    for sym, amount in sorted(actions.items()):
        if amount <= 0:
            continue
        kind: Literal["dividend", "distribution"]
        if sym in bench:
            target, kind = closes, "dividend"
        else:
            if sym not in navs and sym in closes:
                navs[sym] = closes[sym]  # prior NAV = prior close, then distribution-adjusted
            target, kind = navs, "distribution"
        before = target.get(sym)
        if before is None or not math.isfinite(before) or before <= amount:
            continue  # no usable prior value: the engine leaves the fund unpriced anyway
        target[sym] = before - amount
        done.append(Adjustment(sym, kind, day, amount, before, before - amount))
    return msgspec.structs.replace(
        ref,
        prior_close=closes,
        prior_nav=navs,
        adjustments=tuple(done),
        actions_source=source or ref.actions_source,
    )
