"""Volatility estimates: EWMA on intraday returns, GARCH(1,1) on daily returns.

GARCH is fitted once at start-up, never on the hot path, by the numpy estimator in
`inavd.signals.garch` (the model and optimum of `arch`, checked against it in the tests). When
it cannot be trusted — too few observations, the optimiser fails or does not converge, a
non-stationary fit (α + β ≥ 1) or a non-finite forecast — the estimate falls back to an EWMA of
the daily returns, and the result says which method produced it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import structlog

from inavd.signals.garch import GarchFit, fit_garch11

log = structlog.get_logger(__name__)

TRADING_DAYS = 252
SESSION_S = 6.5 * 3600
YEAR_TRADING_S = TRADING_DAYS * SESSION_S
# α + β this close to 1 is the optimiser's way of reaching the non-stationary edge α + β = 1
# (its coordinates keep α + β < 1 strictly)
MAX_PERSISTENCE = 1.0 - 1e-6


class EwmaVol:
    """EWMA of squared log returns per second of elapsed time (robust to uneven sampling)."""

    __slots__ = ("lam", "last_ns", "last_px", "n", "rest", "var_per_s")

    def __init__(self, lam: float) -> None:
        self.lam = lam
        self.rest = 1 - lam  # the new return's weight, as `update` computed it every time
        self.var_per_s = 0.0
        self.n = 0
        self.last_ns: int | None = None  # the last price's time and value (None before one)
        self.last_px = math.nan

    @property
    def last(self) -> tuple[int, float] | None:
        """(ns, price) of the last price taken, None before the first."""
        return None if self.last_ns is None else (self.last_ns, self.last_px)

    def update(self, ts_ns: int, price: float) -> None:
        if not price > 0:
            return
        last_ns = self.last_ns
        if last_ns is not None and ts_ns > last_ns:
            dt = (ts_ns - last_ns) * 1e-9
            r = math.log(price / self.last_px)
            x = r * r / dt
            self.var_per_s = x if self.n == 0 else self.lam * self.var_per_s + self.rest * x
            self.n += 1
        self.last_ns, self.last_px = ts_ns, price

    @property
    def annual(self) -> float:
        """Annualised volatility over trading time (nan before the first return)."""
        return math.sqrt(self.var_per_s * YEAR_TRADING_S) if self.n else math.nan

    def warm(self, min_samples: int) -> float | None:
        """`annual` once `min_samples` returns are in, else None (too noisy to size on)."""
        return self.annual if self.n >= min_samples else None


@dataclass(frozen=True, slots=True)
class DailyVol:
    annual: float  # annualised one-day-ahead volatility
    method: str  # "garch", "ewma" (fallback) or "none"
    detail: str = ""


def ewma_daily(returns: npt.NDArray[np.float64], lam: float = 0.94) -> float:
    var = float(returns[0] ** 2)
    for r in returns[1:]:
        var = lam * var + (1 - lam) * float(r) ** 2
    return math.sqrt(var * TRADING_DAYS)


def garch_daily_vol(returns: npt.NDArray[np.float64], min_obs: int = 60) -> DailyVol:
    """One-day-ahead GARCH(1,1) volatility, annualised; EWMA when the fit is not usable."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 2:
        return DailyVol(math.nan, "none", f"{r.size} returns")
    if r.size < min_obs:
        return _fallback(r, f"{r.size} returns < {min_obs}")
    if not r.max() > r.min():
        return _fallback(r, "constant returns")
    try:
        fit = _fit_of((100.0 * r).tobytes())  # percent returns, as arch would be given
    except Exception as exc:  # any numerical failure means: use the fallback
        return _fallback(r, f"fit failed: {type(exc).__name__}: {exc}")
    alpha, beta, var = fit.alpha, fit.beta, fit.forecast
    if not fit.converged:
        return _fallback(r, f"no convergence after {fit.evaluations} evaluations")
    if not (alpha + beta < MAX_PERSISTENCE and math.isfinite(var) and var > 0):
        return _fallback(r, f"unusable fit (α+β = {alpha + beta:.3f}, forecast {var:.3g})")
    vol = DailyVol(math.sqrt(var * TRADING_DAYS) / 100.0, "garch", f"α={alpha:.3f} β={beta:.3f}")
    log.info(
        "GARCH(1,1) fitted", returns=int(r.size), annual_vol=round(vol.annual, 4), fit=vol.detail
    )
    return vol


@functools.lru_cache(maxsize=16)
def _fit_of(series: bytes) -> GarchFit:
    """The fit of these exact float64 values, once per process: every replay fits at start-up,
    and a backtest's or sweep's days fit the same series again and again (a day under each
    setting; every day after the last bundled close). The fit is a pure function of the bytes
    and immutable; a failed fit raises and is not kept. 16 series of two years each: ≈ 70 kB."""
    return fit_garch11(np.frombuffer(series, dtype=np.float64))


def _fallback(r: npt.NDArray[np.float64], why: str) -> DailyVol:
    log.info("GARCH(1,1) not used, EWMA fallback", reason=why)
    return DailyVol(ewma_daily(r), "ewma", why)
