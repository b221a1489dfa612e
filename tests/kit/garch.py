"""Seeded GARCH(1,1) return series for the volatility tests."""

from __future__ import annotations

import math

import numpy as np


def simulate_garch(n: int, omega: float, alpha: float, beta: float, seed: int = 1) -> np.ndarray:
    """Daily returns of a GARCH(1,1) process started at its unconditional variance."""
    rng = np.random.default_rng(seed)
    r = np.empty(n)
    var = omega / (1 - alpha - beta)
    for t in range(n):
        r[t] = math.sqrt(var) * rng.standard_normal()
        var = omega + alpha * r[t] ** 2 + beta * var
    return r
