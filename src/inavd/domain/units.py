"""Units of the numbers that matter. Aliases document intent; mypy keeps them apart."""

from __future__ import annotations

from typing import NewType

Usd = NewType("Usd", float)  # money, US dollars
Shares = NewType("Shares", float)  # quantity in shares (whole unless fractional is enabled)
Bp = NewType("Bp", float)  # basis points, 1 bp = 1e-4
Nanos = NewType("Nanos", int)  # epoch nanoseconds, UTC

NS_PER_S = 1_000_000_000
BP = 1e-4
PRICE_EPS = 1e-9  # tolerance for price comparisons: prices are never compared with ==
QTY_EPS = 1e-9


def prices_equal(a: float, b: float, eps: float = PRICE_EPS) -> bool:
    return abs(a - b) <= eps * max(1.0, abs(a), abs(b))


def qty_is_zero(q: float) -> bool:
    return abs(q) <= QTY_EPS
