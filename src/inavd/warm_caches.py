"""Write every start-up cache entry (`inavd.startup_cache`) now, as an install step writes bytecode
with `compileall`: `make` and the image's build run `python -m inavd.warm_caches`."""

from __future__ import annotations

from inavd.execution import journal
from inavd.risk import gates


def main() -> int:
    """Write every entry; exit 1 if one could not be written."""
    written = [gates.warm_cache(), journal.warm_cache()]
    for path in written:
        print(path or "not written")
    return 0 if all(written) else 1


if __name__ == "__main__":
    raise SystemExit(main())
