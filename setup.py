"""Build hook: the decision path (`inavd.native.MODULES`) compiled with mypyc, where it can be.

Everything else about the package is in pyproject.toml. Without a C compiler, or with
INAVD_PURE_PYTHON=1, the package installs as plain Python and runs the same source interpreted.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_ext import build_ext

SRC = Path(__file__).resolve().parent / "src"


def _load_native() -> ModuleType:
    """`inavd/native.py` on its own (it needs only the standard library; the package's
    dependencies may not be in the build environment): the group's modules and its records."""
    spec = importlib.util.spec_from_file_location("_inavd_native", SRC / "inavd" / "native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


native = _load_native()


def _note(text: str) -> None:
    print(f"inavd: {text}", file=sys.stderr)


class BuildNative(build_ext):
    """Compiles the group, then records the sha256 of each source it was compiled from
    (`inavd.native` runs the group only while every source still has it). A failed compile
    ships no group: the same code runs interpreted (an editable install keeps the group built
    before, which still runs only while its sources are unchanged)."""

    def run(self) -> None:
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as e:  # no compiler, no headers: install the source alone
            _note(f"the decision path was not compiled ({e}); `inavd version` says what runs")
            for ext in self.extensions:
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            return
        hashes = native.source_hashes(SRC)
        pkg = Path(self.get_ext_fullpath("inavd.native")).parent
        (pkg / native.SOURCES).write_text(native.sources_record(hashes), encoding="utf-8")


def _extensions() -> list[object]:
    if os.environ.get(native.PURE_ENV, "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    try:  # mypy checks the group against the installed dependencies' types first
        paths = [native.source_path(m, SRC) for m in native.MODULES]
        return list(mypycify(paths, opt_level="3"))
    except (Exception, SystemExit) as e:
        _note(f"the decision path was not compiled ({e!r}); `inavd version` says what runs")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildNative})
