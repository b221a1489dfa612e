"""Garbage-collector policy for the daemon's run loop (docs/execution.md, 'GC policy').

Once the app is built, nearly every object alive (config, universe, calendar, the quote book and
its numpy arrays, imported modules) lives until exit. CPython's cyclic GC would still walk them all
in every full collection — milliseconds on the order path. `freeze()` moves them to the permanent
generation, and a larger young-generation threshold makes the remaining collections rarer; each one
only walks the objects allocated since, so it stays short. `thaw()` undoes both at stop, so a
process that builds several apps (tests, tools) does not keep the frozen ones forever.

Start-up itself: `inavd run` pauses the collector while it imports and builds (`pause()`), since
every object made then is either long-lived or freed by reference counting; automatic
collections during imports walked the growing heap again and again. `freeze()` then freezes
without a full collection: the start-up garbage it leaves (cycles dropped while building) was
measured at about 2,300 objects, well under 1 MB, and is freed after `thaw()`. Only a process
that already ran an app collects fully first: that app's object graph is cyclic garbage now.
"""

from __future__ import annotations

import gc

# Young objects allocated (minus freed) before a generation-0 collection; then how many younger
# collections trigger the next older one. CPython's default is (700, 10, 10).
THRESHOLD: tuple[int, int, int] = (20_000, 20, 20)


class GcState:
    """The collector's thresholds before `freeze` (how many objects it froze is not counted:
    `gc.get_freeze_count()` walks the whole permanent generation, ≈ 15–20 ms after a build).
    Plain classes here: every command imports this module, and `inavd version` should not pay
    for dataclasses or msgspec."""

    __slots__ = ("threshold",)

    def __init__(self, threshold: tuple[int, int, int]) -> None:
        self.threshold = threshold


class _Process:
    __slots__ = ("paused", "thawed")

    def __init__(self) -> None:
        self.paused = False  # the collector was disabled by `pause()`, not by someone else
        self.thawed = False  # an app ran and was thawed since the last full collection


_process = _Process()


def pause() -> None:
    """No automatic collection until `freeze()` (or `resume()`): a process about to import and
    build the daemon (`inavd run`)."""
    if gc.isenabled():
        gc.disable()
        _process.paused = True


def resume() -> None:
    """Undo `pause()` (a run that stopped before `freeze()`)."""
    if _process.paused:
        _process.paused = False
        gc.enable()


def freeze(threshold: tuple[int, int, int] = THRESHOLD) -> GcState:
    """Freeze what the built app holds and raise the thresholds (see the module's notes)."""
    previous = gc.get_threshold()
    if _process.thawed:
        gc.collect()  # a previous app's cycles: garbage that must not be frozen
        _process.thawed = False
    elif gc.isenabled():
        gc.collect(1)  # the young generations only: the old one holds the imports
    gc.freeze()
    gc.set_threshold(*threshold)
    resume()
    return GcState(previous)


def thaw(state: GcState) -> None:
    """Back to the state before `freeze` (frozen objects become collectable again)."""
    gc.unfreeze()
    gc.set_threshold(*state.threshold)
    _process.thawed = True
