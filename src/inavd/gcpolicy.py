"""Garbage-collector policy for the daemon's run loop (docs/execution.md, 'GC policy').

Once the app is built, nearly every object alive (config, universe, calendar, the quote book and
its numpy arrays, imported modules) lives until exit. CPython's cyclic GC would still walk them all
in every full collection — milliseconds on the order path. `freeze()` moves them to the permanent
generation, and a larger young-generation threshold makes the remaining collections rarer; each one
only walks the objects allocated since, so it stays short. `thaw()` undoes both at stop, so a
process that builds several apps (tests, tools) does not keep the frozen ones forever.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

# Young objects allocated (minus freed) before a generation-0 collection; then how many younger
# collections trigger the next older one. CPython's default is (700, 10, 10).
THRESHOLD: tuple[int, int, int] = (20_000, 20, 20)


@dataclass(frozen=True, slots=True)
class GcState:
    threshold: tuple[int, int, int]
    frozen: int  # objects moved to the permanent generation


def freeze(threshold: tuple[int, int, int] = THRESHOLD) -> GcState:
    """Collect the start-up garbage, freeze what survives, raise the thresholds."""
    previous = gc.get_threshold()
    gc.collect()  # garbage must not be frozen: it would never be freed
    gc.freeze()
    gc.set_threshold(*threshold)
    return GcState(previous, gc.get_freeze_count())


def thaw(state: GcState) -> None:
    """Back to the state before `freeze` (frozen objects become collectable again)."""
    gc.unfreeze()
    gc.set_threshold(*state.threshold)
