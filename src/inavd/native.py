"""The decision path, compiled: the same source built with mypyc, and the way back to the source.

The modules in `MODULES` run at every evaluation (signals, sizing, the gate pipeline). A build with
a C compiler and mypy (`make`, the image; setup.py) compiles them with mypyc from this very source,
into one extension group, and records each source's sha256 beside them (`SOURCES`). At import the
package uses the compiled group only while every source still has the recorded hash: the modules
of a group call each other directly, so one edited source sends the whole group back to the
source (with a warning to rebuild). `INAVD_PURE_PYTHON=1` runs the source without looking.
`state()` says which one runs; `inavd version` prints it.

Imported by `inavd/__init__.py`, so by every command: the standard library only, and what it
costs beyond `os` and `sys` only where a compiled group is present.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec, SourceFileLoader
from types import ModuleType

MODULES: tuple[str, ...] = (
    "inavd.execution.positions",
    "inavd.risk.pipeline",
    "inavd.risk.venue_rules",
    "inavd.signals._common",
    "inavd.signals.decay_monitor",
    "inavd.signals.base",
    "inavd.signals.mean_reversion",
    "inavd.signals.moc_flow",
    "inavd.signals.premium_arb",
    "inavd.signals.premium_reversion",
    "inavd.signals.vol_hedge",
    "inavd.signals.volatility",
    "inavd.sizing.costs",
    "inavd.sizing.kelly",
)
SOURCES = "_native_sources.txt"  # "module sha256" per line: the sources compiled from
PURE_ENV = "INAVD_PURE_PYTHON"
# the folder that holds the `inavd` package
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source_path(module: str, root: str | os.PathLike[str] = _ROOT) -> str:
    """The source file of `module` under `root`."""
    return os.path.join(os.fspath(root), *module.split(".")) + ".py"


def sources_record(hashes: dict[str, str]) -> str:
    """The text of `SOURCES` (what `decide` reads back)."""
    return "".join(f"{m} {h}\n" for m, h in sorted(hashes.items()))


def source_hashes(
    root: str | os.PathLike[str] = _ROOT, modules: Sequence[str] = MODULES
) -> dict[str, str]:
    """module → sha256 of its source, as the build records it."""
    import hashlib

    out = {}
    for m in modules:
        with open(source_path(m, root), "rb") as f:
            out[m] = hashlib.sha256(f.read()).hexdigest()
    return out


def compiled_here(root: str | os.PathLike[str] = _ROOT) -> bool:
    """Whether a compiled group sits beside the sources (an extension of the first module)."""
    first = source_path(MODULES[0], root)[: -len(".py")]
    return any(os.path.exists(first + suffix) for suffix in EXTENSION_SUFFIXES)


def decide(root: str | os.PathLike[str] = _ROOT) -> tuple[str, str]:
    """("compiled" | "interpreted", why) for the package under `root`."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return "interpreted", f"{PURE_ENV} is set"
    if not compiled_here(root):
        return "interpreted", "not compiled (no C compiler or mypy at build time)"
    import warnings

    try:
        with open(os.path.join(os.fspath(root), "inavd", SOURCES), encoding="utf-8") as f:
            recorded = dict(line.split() for line in f if line.strip())
        now = source_hashes(root)
    except (OSError, ValueError) as e:
        return "interpreted", f"the compiled sources cannot be checked ({e})"
    changed = sorted(m for m in MODULES if recorded.get(m) != now[m])
    if changed:
        warnings.warn(
            f"inavd: {', '.join(changed)} changed since the decision path was compiled: running"
            " it from source (rebuild: make, or pip install again)",
            RuntimeWarning,
            stacklevel=2,
        )
        return "interpreted", f"source changed since compiled: {', '.join(changed)}"
    return "compiled", "mypyc"


class _SourceFinder:
    """A meta path finder: the decision path's modules as source, ahead of their extensions."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in MODULES:
            return None
        origin = source_path(fullname)
        spec = ModuleSpec(fullname, SourceFileLoader(fullname, origin), origin=origin)
        spec.has_location = True
        return spec


_STATE: tuple[str, str] | None = None


def install() -> None:
    """Decide once, before any module of the group is imported (`inavd/__init__.py`)."""
    global _STATE
    if _STATE is None:
        _STATE = decide()
        if _STATE[0] == "interpreted" and compiled_here():
            sys.meta_path.insert(0, _SourceFinder())


def state() -> tuple[str, str]:
    """("compiled" | "interpreted", why) for the running process."""
    install()
    assert _STATE is not None
    return _STATE
