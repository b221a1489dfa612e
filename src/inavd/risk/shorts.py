"""Short-sale policy at the intent level: a refused short becomes equivalent long exposure or flat.

Shorting a fund is shorting `L ×` its benchmark: the same benchmark-dollar exposure E = q·P·L can be
held long in the benchmark proxy (E > 0) or in an inverse fund of that benchmark (E < 0), without
borrowing anything. The gates still refuse any sell that would open a short that is not allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from inavd.domain.instruments import Universe
from inavd.domain.intents import Intent


class ShortPolicy:
    def __init__(self, universe: Universe, allowed: Callable[[str], bool]) -> None:
        self.allowed = allowed
        self.beta = {b: 1.0 for b in universe.benchmarks}
        self.bench_of = {b: b for b in universe.benchmarks}
        self.inverse: dict[str, tuple[str, float]] = {}
        for f in universe.funds:
            self.beta[f.symbol] = f.leverage
            self.bench_of[f.symbol] = f.benchmark
            best = self.inverse.get(f.benchmark)
            # the inverse fund closest to −1x carries the least volatility drag
            if f.leverage < 0 and (best is None or abs(f.leverage + 1) < abs(best[1] + 1)):
                self.inverse[f.benchmark] = (f.symbol, f.leverage)

    def needs_translation(self, intent: Intent) -> bool:
        return intent.target_qty < 0 and not self.allowed(intent.symbol)

    def equivalent(self, intent: Intent, mid: Callable[[str], float]) -> Intent | None:
        """The long position with the same benchmark-dollar exposure, or None if there is none."""
        sym = intent.symbol
        bench = self.bench_of.get(sym)
        if bench is None:
            return None
        exposure = intent.target_qty * mid(sym) * self.beta[sym]
        if exposure > 0:
            target, unit = bench, mid(bench)
        else:
            inv = self.inverse.get(bench)
            if inv is None:
                return None
            target, unit = inv[0], mid(inv[0]) * inv[1]
        qty = float(int(exposure / unit)) if unit == unit and unit != 0 else 0.0
        if not qty > 0:
            return None
        reason = f"{intent.reason} (as {qty:g} {target} instead of short {sym})"
        return msgspec.structs.replace(intent, symbol=target, target_qty=qty, reason=reason)


def flat_instead(intent: Intent) -> Intent:
    return msgspec.structs.replace(
        intent, target_qty=0.0, reason=f"{intent.reason} (short refused: flat)"
    )
