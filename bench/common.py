"""Shared helpers for the benchmarks: the machine description and robust timing."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )


def per_call_us(fn: Callable[[], object], calls: int, repeats: int = 7) -> list[float]:
    """Median-friendly samples: µs per call for each of `repeats` loops of `calls` calls."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - t0) / calls * 1e6)
    return out


def latencies_us(fn: Callable[[], object], n: int) -> np.ndarray:
    """One timing per call, for percentiles."""
    samples = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn()
        samples[i] = (time.perf_counter_ns() - t0) / 1e3
    return samples


def median(xs: list[float]) -> float:
    return statistics.median(xs)
