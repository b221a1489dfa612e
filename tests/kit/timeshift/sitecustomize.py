"""Imported at start-up by a daemon a test launches with this folder on PYTHONPATH: shifts
`time.time_ns` by TIMESHIFT_NS so a wall-clock daemon runs "mid-session" at any real time (see
tests/kit/market_time.py, which does the same in the test's own process)."""

import os
import time

_SHIFT = int(os.environ.get("TIMESHIFT_NS", "0"))
if _SHIFT:
    _real_ns = time.time_ns

    def _shifted_ns() -> int:
        return _real_ns() + _SHIFT

    time.time_ns = _shifted_ns
