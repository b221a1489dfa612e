"""Side-channel cost: replay quotes/s with MQTT (real Mosquitto on 127.0.0.1:1883) and the ops
endpoint on, against both off, measured side by side (alternating runs) in one process.

Target (issue 6): on ≥ 0.9 × off.
    .venv/bin/python -m bench.bench_side_channels
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from typing import Any

from bench.common import machine, median
from inavd.app import App, RunOptions
from inavd.settings import load_config

RUNS = 8


def _run(data_dir: str, side_channels: bool) -> dict[str, Any]:
    env = {
        "INAVD_RUN__DATA_DIR": data_dir,
        "INAVD_MQTT__ENABLED": str(side_channels).lower(),
        "INAVD_OPS__ENABLED": str(side_channels).lower(),
        "INAVD_OPS__PORT": "0",
        "INAVD_MQTT__TOPIC_PREFIX": f"inavd-bench-{uuid.uuid4().hex[:8]}",
    }
    os.environ.update(env)
    try:
        app = App(load_config(), RunOptions(quiet=True))
        summary: dict[str, Any] = asyncio.run(app.run())
    finally:
        for key in env:
            del os.environ[key]
    return summary


def main() -> None:
    print(f"machine: {machine()}")
    off: list[float] = []
    on: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        _run(tmp + "/warm", False)  # imports, caches
        for i in range(RUNS):
            # ABBA order: drift of a busy machine (disk, other load) hits both sides alike
            order = (False, True) if i % 2 == 0 else (True, False)
            for side in order:
                rate = _run(f"{tmp}/{side}{i}", side)["quotes_per_second"]
                (on if side else off).append(rate)
    m_off, m_on = median(off), median(on)
    print(f"replay, side channels off: median {m_off:,.0f} quotes/s  runs {sorted(off)}")
    print(f"replay, MQTT + ops on:     median {m_on:,.0f} quotes/s  runs {sorted(on)}")
    print(f"ratio on/off: {m_on / m_off:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
