"""The expected-position view the signals read at each evaluation, built from what is working.

Expected position = the ledger's position + the open orders' remaining quantity + the icebergs'
unshown quantity. Built once per evaluation in one pass over the working orders (a handful) and
the ledger's held symbols, not per symbol of the universe: at 10,000 funds the per-symbol
recomputation was half of an evaluation. Any symbol of the book reads as 0.0 when nothing is held
or working; iteration gives only the symbols with something held or working.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, Mapping


class PositionView(Mapping[str, float]):
    def __init__(
        self,
        held: Mapping[str, float],
        working: Iterable[tuple[str, float]],
        universe: Mapping[str, int],
    ) -> None:
        qty = {s: q for s, q in held.items() if q != 0.0}
        for sym, q in working:
            qty[sym] = qty.get(sym, 0.0) + q
        self._qty = qty
        self._universe = universe

    def __getitem__(self, symbol: str) -> float:
        q = self._qty.get(symbol)
        if q is not None:
            return q
        if symbol in self._universe:
            return 0.0
        raise KeyError(symbol)

    def get(self, symbol: str, default: float | None = None) -> float | None:  # type: ignore[override]
        """As `Mapping.get` (a symbol of the book reads 0.0), without its two Python calls."""
        q = self._qty.get(symbol)
        if q is not None:
            return q
        return 0.0 if symbol in self._universe else default

    def items(self) -> ItemsView[str, float]:
        """The symbols held or working and their positions (the dict's own view: no lookups)."""
        return self._qty.items()

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._qty or symbol in self._universe

    def __iter__(self) -> Iterator[str]:
        return iter(self._qty)

    def __len__(self) -> int:
        return len(self._qty)
