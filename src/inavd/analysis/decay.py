"""Volatility drag of daily-reset funds (DOMAIN.md §1, §4): closed form, table, simulation.

All figures assume zero fees, financing and dividends, as fund prospectuses do. Returns are
fractions (0.10 = 10 %); volatilities are annualised fractions; horizons are in years.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt

from inavd.errors import ConfigError

F64 = npt.NDArray[np.float64]

TRADING_DAYS_PER_YEAR = 252

# Prospectus layout: one-year index return −60 % … +60 % in 10-point steps, volatility 10 … 100 %.
DEFAULT_INDEX_RETURNS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(-6, 7))
DEFAULT_VOLATILITIES: tuple[float, ...] = (0.10, 0.25, 0.50, 0.75, 1.00)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Distribution of the fund's horizon return over simulated index paths."""

    mean: float
    p5: float
    p50: float
    p95: float
    paths: int
    days: int


@dataclass(frozen=True, slots=True)
class DecayTable:
    """Fund returns (fractions): `fund_returns[i][j]` is for index_returns[i], volatilities[j]."""

    leverage: float
    index_returns: tuple[float, ...]
    volatilities: tuple[float, ...]
    fund_returns: tuple[tuple[float, ...], ...]


def _check_inputs(leverage: float, index_return: float, volatility: float, years: float) -> None:
    if not all(math.isfinite(x) for x in (leverage, index_return, volatility, years)):
        raise ConfigError("leverage, index return, volatility and years must be finite numbers")
    if index_return <= -1.0:
        raise ConfigError(f"index return {index_return:g} must be above -1 (a -100 % loss)")
    if volatility < 0.0:
        raise ConfigError(f"volatility {volatility:g} must not be negative")
    if years <= 0.0:
        raise ConfigError(f"years {years:g} must be positive")


def closed_form_return(
    leverage: float, index_return: float, volatility: float, years: float = 1.0
) -> float:
    """(1 + R)^L · exp((L − L²)·σ²·T/2) − 1: the fund return over the horizon.

    This is the median outcome under continuous rebalancing when the index returns `R` over the
    horizon with volatility `σ` (see `simulate_returns` for the matching drift).
    """
    _check_inputs(leverage, index_return, volatility, years)
    drag = (leverage - leverage**2) * volatility**2 * years / 2.0
    try:
        return float((1.0 + index_return) ** leverage * math.exp(drag) - 1.0)
    except OverflowError:
        raise ConfigError("the fund return overflows a float for these inputs") from None


def decay_table(
    leverage: float,
    index_returns: Sequence[float] = DEFAULT_INDEX_RETURNS,
    volatilities: Sequence[float] = DEFAULT_VOLATILITIES,
    years: float = 1.0,
) -> DecayTable:
    """The prospectus "estimated fund return" grid, unrounded."""
    if not index_returns or not volatilities:
        raise ConfigError("the table needs at least one index return and one volatility")
    rows = tuple(
        tuple(closed_form_return(leverage, r, s, years) for s in volatilities)
        for r in index_returns
    )
    return DecayTable(float(leverage), tuple(index_returns), tuple(volatilities), rows)


def round_percent(fraction: float, decimals: int = 1) -> Decimal:
    """A fraction as a percentage rounded half away from zero, as fund documents print it.

    Going through `repr` avoids binary artefacts (0.0005 * 100 must round up, not down).
    """
    quantum = Decimal(1).scaleb(-decimals)
    return (Decimal(repr(fraction)) * 100).quantize(quantum, rounding=ROUND_HALF_UP)


def fund_growth(index_returns: F64, leverage: float) -> F64:
    """Cumulative growth of a daily-reset fund along the last axis: ∏(1 + L·R_t).

    A day with L·R_t ≤ −100 % wipes the fund out; it stays at zero afterwards (no negative NAV).
    """
    return np.cumprod(_daily_factors(index_returns, leverage), axis=-1, dtype=np.float64)


def _daily_factors(index_returns: F64, leverage: float) -> F64:
    factors: F64 = np.maximum(1.0 + leverage * np.asarray(index_returns, dtype=np.float64), 0.0)
    return factors


def simulate_returns(
    leverage: float,
    index_return: float,
    volatility: float,
    years: float = 1.0,
    paths: int = 10_000,
    seed: int | None = None,
) -> SimulationResult:
    """Monte Carlo of a fund rebalanced daily (252 days a year) over lognormal index paths.

    Drift choice: daily log returns are N(ln(1 + R)/D, σ²/252), so the index's *median* return
    over the horizon is exactly R. That is the convention under which the closed form is the
    median fund outcome, so `p50` is the figure to compare with `closed_form_return`; `mean` is
    higher (about (1 + R)^L · exp(L·σ²·T/2) − 1) because of the lognormal skew.
    Shocks come in antithetic pairs (z, −z), which all but removes sampling noise from `p50`.
    """
    _check_inputs(leverage, index_return, volatility, years)
    if paths < 1:
        raise ConfigError(f"paths {paths} must be at least 1")
    days = max(1, round(TRADING_DAYS_PER_YEAR * years))
    rng = np.random.default_rng(seed)
    mu = math.log1p(index_return) / days
    sigma_day = volatility * math.sqrt(years / days)
    log_returns = _antithetic_normals(rng, paths, days)
    log_returns *= sigma_day
    log_returns += mu
    index_daily = np.expm1(log_returns, out=log_returns)
    final = np.prod(_daily_factors(index_daily, leverage), axis=1) - 1.0
    p5, p50, p95 = np.percentile(final, [5.0, 50.0, 95.0])
    return SimulationResult(
        mean=float(final.mean()),
        p5=float(p5),
        p50=float(p50),
        p95=float(p95),
        paths=paths,
        days=days,
    )


def _antithetic_normals(rng: np.random.Generator, paths: int, days: int) -> F64:
    """Standard normals where path k + n/2 mirrors path k: the sum of shocks is symmetric."""
    half = rng.standard_normal(((paths + 1) // 2, days))
    out: F64 = np.concatenate((half, -half))[:paths]
    return out
