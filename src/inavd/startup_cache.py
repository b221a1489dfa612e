"""What start-up would otherwise rebuild in every process, kept beside a module's bytecode.

Python keeps compiled modules in `__pycache__` so that a start does not compile them again. Two
things the daemon builds at start-up from its own source are kept the same way: the gates chained
into one function (`risk.gates`) and the bytes of an empty journal at the latest schema
(`execution.journal`). An entry is a marshalled `(key, value)`: it is used only while its key
(what it was built from) is the caller's, is replaced whole (written aside, then renamed) when
it is not, and is not used at all when it cannot be read or written.

Nothing is written at run time where Python writes no bytecode (`PYTHONDONTWRITEBYTECODE`, the
image). Install steps write the entries anyway, as they write bytecode with `compileall`:
`python -m inavd.warm_caches` (`make`, the image's build).
"""

from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import sys
from typing import Any


class Entry:
    """One cached value of `module_file`'s, named `name`, valid for `key`."""

    def __init__(self, module_file: str, name: str, key: Any) -> None:
        self.key = key
        folder = folder_of(module_file)
        tag = sys.implementation.cache_tag
        self.path = None if folder is None else os.path.join(folder, f"{name}.{tag}.bin")

    def load(self) -> Any:
        """The value stored for this key, or None."""
        if self.path is None:
            return None
        try:
            with open(self.path, "rb") as f:
                key, value = marshal.loads(f.read())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return value if key == self.key else None

    def store(self, value: Any, always: bool = False) -> None:
        """Keep `value` for this key (`always`: even where Python writes no bytecode)."""
        if self.path is None or (sys.dont_write_bytecode and not always):
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(marshal.dumps((self.key, value)))
            os.replace(tmp, self.path)  # whole or not at all: concurrent starts may race
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def folder_of(module_file: str) -> str | None:
    """The bytecode folder of `module_file` (None: an interpreter without a bytecode cache)."""
    try:
        return os.path.dirname(importlib.util.cache_from_source(module_file))
    except NotImplementedError:
        return None
