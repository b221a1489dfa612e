"""Side-channel cost: replay quotes/s with MQTT (real Mosquitto on 127.0.0.1:1883) and the ops
endpoint on, against both off, measured side by side (alternating runs) in one process.

Target (issue 6): on ≥ 0.9 × off (quotes/s, wall time of the replay). On a shared machine the wall
time also measures the neighbours, so the main thread's CPU time over the same window is printed
too: its on − off difference is what the side channels cost the trading thread.
    .venv/bin/python -m bench.bench_side_channels [runs per side, default 10]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from typing import Any

from bench.common import machine, median
from inavd.app import App, RunOptions
from inavd.lifecycle import Lifecycle
from inavd.settings import load_config

RUNS = 10


class _TimedApp(App):
    """The replay window the summary's quotes/s covers, also timed in main-thread CPU."""

    feed_cpu_s = 0.0
    published = 0

    async def _run_feed(self, life: Lifecycle) -> dict[str, Any]:
        t0 = time.thread_time()
        try:
            return await super()._run_feed(life)
        finally:
            self.feed_cpu_s = time.thread_time() - t0
            # MQTT messages sent while the replay ran (the rest is flushed at shutdown)
            self.published = sum(getattr(s, "published", 0) for s in self.services)


def _run(data_dir: str, side_channels: bool) -> tuple[float, float, int]:
    env = {
        "INAVD_RUN__DATA_DIR": data_dir,
        "INAVD_MQTT__ENABLED": str(side_channels).lower(),
        "INAVD_OPS__ENABLED": str(side_channels).lower(),
        "INAVD_OPS__PORT": "0",
        "INAVD_MQTT__TOPIC_PREFIX": f"inavd-bench-{uuid.uuid4().hex[:8]}",
    }
    os.environ.update(env)
    try:
        app = _TimedApp(load_config(), RunOptions(quiet=True))
        summary: dict[str, Any] = asyncio.run(app.run())
    finally:
        for key in env:
            del os.environ[key]
    return float(summary["quotes_per_second"]), app.feed_cpu_s, app.published


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    print(f"machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}")
    rate: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    sent: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        _run(tmp + "/warm", False)  # imports, caches
        for i in range(runs):
            # ABBA order: drift of a busy machine (disk, other load) hits both sides alike
            order = (False, True) if i % 2 == 0 else (True, False)
            for side in order:
                q, c, n = _run(f"{tmp}/{side}{i}", side)
                rate[side].append(q)
                cpu[side].append(c)
                if side:
                    sent.append(n)
    q_off, q_on = median(rate[False]), median(rate[True])
    c_off, c_on = median(cpu[False]), median(cpu[True])
    print(f"replay, side channels off: median {q_off:,.0f} quotes/s  runs {sorted(rate[False])}")
    print(f"replay, MQTT + ops on:     median {q_on:,.0f} quotes/s  runs {sorted(rate[True])}")
    print(f"ratio on/off: {q_on / q_off:.3f} (target >= 0.9)")
    print(
        f"main-thread CPU in the replay window: off {c_off * 1e3:.0f} ms, on {c_on * 1e3:.0f} ms"
        f" (side channels {100 * (c_on - c_off) / c_off:+.1f} %); MQTT messages sent during"
        f" the replay: median {median([float(n) for n in sent]):.0f}"
    )
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
